//! Where a model file came from: the command line, the source revision, the time.

use model_format::Provenance;

/// The git revision the trainer was built from (set by build.rs; `unknown` outside a checkout).
pub const GIT_REVISION: &str = env!("TRAINER_GIT_REVISION");

/// The command line of this process, shell-quoted where needed.
pub fn command_line() -> String {
    std::env::args()
        .map(|arg| {
            if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
                format!("'{}'", arg.replace('\'', r"'\''"))
            } else {
                arg
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Provenance of a file this process writes, derived from `sources`.
pub fn current(sources: Vec<String>) -> Provenance {
    Provenance {
        command: Some(command_line()),
        git_revision: (GIT_REVISION != "unknown").then(|| GIT_REVISION.to_string()),
        sources,
        created: Some(humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()),
        ..Provenance::default()
    }
}
