//! The data directory and the database files are the user's alone on Unix.

#[cfg(unix)]
#[test]
fn the_data_folder_is_0700_and_the_database_files_0600() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().expect("a temp dir");
    let dir = parent.path().join("data");
    // A folder left wide open by an older version is narrowed too.
    std::fs::create_dir(&dir).expect("make the folder");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("widen it");
    let app = punctual::app::App::open(&dir).expect("the app opens");
    app.create_event(&punctual::app::EventInput {
        title: Some("Private".into()),
        start: Some("2026-12-08T09:00".into()),
        end: Some("2026-12-08T10:00".into()),
        ..Default::default()
    })
    .expect("a write, so the -wal and -shm files exist");
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(
        mode(&dir),
        0o700,
        "only the user may list or enter the data folder"
    );
    for f in [
        "punctual.sqlite3",
        "punctual.sqlite3-wal",
        "punctual.sqlite3-shm",
    ] {
        assert_eq!(
            mode(&dir.join(f)),
            0o600,
            "{f}: only the user may read the calendar data"
        );
    }
}
