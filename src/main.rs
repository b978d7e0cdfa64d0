//! `cargo run`: the leaklab workshop runner.

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    match leaklab_workshop::catalogue::load(root) {
        Ok(exercises) => {
            for e in exercises {
                println!("{}  {}", e.id(), e.meta.title);
            }
        }
        Err(e) => eprintln!("{e}"),
    }
}
