//! Prints the core's error-code table as a JavaScript object literal; scripts/build writes it
//! into the package entry as `ErrorCode`, so the names need no wasm.

fn main() {
    let rows: Vec<String> = chat_core::ErrorCode::ALL
        .iter()
        .map(|c| format!("  {}: {},", c.name(), c.code()))
        .collect();
    println!("{{\n{}\n}}", rows.join("\n"));
}
