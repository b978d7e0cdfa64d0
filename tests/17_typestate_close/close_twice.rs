// A journal cannot be closed twice: the first `close` took it.
// (A compile-fail case of exercise 17; the error it must give is in close_twice.stderr.)
use std::path::Path;
use subject::Journal;

fn main() -> std::io::Result<()> {
    let mut journal = Journal::create(Path::new("journal.log"))?;
    journal.append("only record")?;
    journal.close()?;
    journal.close()?;
    Ok(())
}
