//! The two training commands: settings -> [`Run`] -> [`train`].

use anyhow::{Context, Result, bail};

use super::{DistillArgs, Objective, Outcome, Run, TeacherArgs, load_teacher, train};
use crate::spec;

/// The teacher's network when neither --model nor --init names one.
pub const DEFAULT_TEACHER: &str = "deit_base_patch16_224";

/// `trainer teacher`.
pub fn teacher(args: &TeacherArgs) -> Result<Outcome> {
    let selected = crate::backend::select_device(args.recipe.backend)?;
    let size = args.recipe.input_size;
    let config = match (&args.model, &args.init) {
        (Some(model), _) => spec::model_config(model, size)?,
        (None, Some(init)) => spec::config_of_file(init, size)?,
        (None, None) => spec::model_config(DEFAULT_TEACHER, size)?,
    };
    if args.freeze_blocks > config.depth {
        bail!(
            "--freeze-blocks {}: the model has {} blocks",
            args.freeze_blocks,
            config.depth
        );
    }
    let mut settings = serde_json::json!({
        "command": "teacher",
        "model": config,
        "init": args.init,
        "recipe": args.recipe,
    });
    // Recorded only when on, so that runs from before the flag still resume.
    if args.freeze_blocks > 0 {
        settings["freeze_blocks"] = args.freeze_blocks.into();
    }
    let run = Run {
        config,
        init: args.init.as_deref(),
        freeze_blocks: args.freeze_blocks,
        objective: Objective::Labels,
        recipe: &args.recipe,
        settings,
        sources: args.init.iter().map(|p| p.display().to_string()).collect(),
    };
    train(run, &selected)
}

/// `trainer distill`.
pub fn distill(args: &DistillArgs) -> Result<Outcome> {
    use crate::train::distill::{FeatureTokens, validate_layers};

    let selected = crate::backend::select_device(args.recipe.backend)?;
    let config = spec::model_config(&args.model, args.recipe.input_size)?;
    let (teacher, teacher_config) = load_teacher(
        &args.teacher_path,
        args.teacher_model.as_deref(),
        &selected.device,
    )?;
    if teacher_config.image_size != config.image_size {
        bail!(
            "the teacher takes {0}x{0} inputs but the student {1}x{1}: use --input-size {0}",
            teacher_config.image_size,
            config.image_size
        );
    }
    let loss = args.loss_config().init()?;
    if !args.s_id.is_empty() || !args.t_id.is_empty() {
        validate_layers(&args.s_id, &args.t_id, config.depth, teacher_config.depth)
            .context("--s-id/--t-id")?;
    }
    let mut settings = serde_json::json!({
        "command": "distill",
        "model": config,
        "init": args.init,
        "teacher_path": args.teacher_path,
        "distillation": {
            "type": format!("{:?}", args.distillation_type),
            "alpha": args.distillation_alpha,
            "beta": args.distillation_beta,
            "tau": args.distillation_tau,
            "s_id": args.s_id,
            "t_id": args.t_id,
        },
        "recipe": args.recipe,
    });
    // Recorded only when not the default, so that runs from before the flag still resume.
    if args.feature_tokens != FeatureTokens::default() {
        settings["distillation"]["feature_tokens"] =
            serde_json::to_value(format!("{:?}", args.feature_tokens))?;
    }
    let mut sources: Vec<String> = args.init.iter().map(|p| p.display().to_string()).collect();
    sources.push(format!("teacher: {}", args.teacher_path.display()));
    let run = Run {
        config,
        init: args.init.as_deref(),
        freeze_blocks: 0,
        objective: Objective::Distill {
            teacher: Box::new(teacher),
            loss,
        },
        recipe: &args.recipe,
        settings,
        sources,
    };
    train(run, &selected)
}

/// `trainer teacher` on the command line: trains, then prints the outcome.
pub fn teacher_command(args: TeacherArgs) -> Result<()> {
    print_outcome(&teacher(&args)?);
    Ok(())
}

/// `trainer distill` on the command line: distils, then prints the outcome.
pub fn distill_command(args: DistillArgs) -> Result<()> {
    print_outcome(&distill(&args)?);
    Ok(())
}

/// The best epoch, its test report and where the model went.
pub fn print_outcome(outcome: &Outcome) {
    let best = &outcome.best;
    println!(
        "best: epoch {} (dev ACER {:.2}%, EER {:.2}%, AUC {:.4}) -> {}",
        best.epoch,
        100.0 * best.dev_acer,
        100.0 * best.dev_eer,
        best.dev_auc,
        outcome.best_model.display()
    );
    if let Some(evaluation) = &outcome.evaluation {
        print!("{}", evaluation.report.table());
        println!(
            "threshold and metrics written into {}; `trainer export --dtype int8` makes the deployable file",
            outcome.best_model.display()
        );
    }
}
