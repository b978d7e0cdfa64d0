// A closed journal cannot be written to: `close` took the journal, so there is nothing left to append to.
// (A compile-fail case of exercise 17; the error it must give is in append_after_close.stderr.)
use std::path::Path;
use subject::Journal;

fn main() -> std::io::Result<()> {
    let mut journal = Journal::create(Path::new("journal.log"))?;
    journal.append("begin")?;
    journal.close()?;
    journal.append("after close")?;
    Ok(())
}
