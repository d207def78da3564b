//! The `mock-catalog` binary as a person runs it.

#[test]
fn the_binary_refuses_a_missing_scenario_with_one_line() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-catalog"))
        .args(["--listen", "127.0.0.1:0", "--scenario", "/nonexistent/scenario.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: cannot read /nonexistent/scenario.toml") && err.lines().count() == 1, "{err}");
}
