//! ROC and DET curves of `trainer eval` (plotters), as PNG and SVG.

use std::path::Path;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::eval::metrics::OperatingPoint;

/// DejaVu Sans (Bitstream Vera licence, `trainer/assets/LICENSE-DejaVu.txt`): plotters'
/// bitmap backend draws text only with a registered font, and no system font is assumed.
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Only fails on a malformed font, and this one is built in.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// One curve: a name and its operating points.
pub struct Curve<'a> {
    pub name: &'a str,
    pub points: &'a [OperatingPoint],
}

const COLOURS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
];
/// Rates below this are drawn at this value on the DET's log axes.
const DET_FLOOR: f64 = 1e-4;

fn draw_roc<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curves: &[Curve],
    title: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(|e| anyhow!("{e:?}"))?;
    chart
        .configure_mesh()
        .x_desc("false acceptance rate (attacks accepted)")
        .y_desc("true acceptance rate (live accepted)")
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    draw_curves(
        &mut chart,
        curves,
        |p| (p.far, 1.0 - p.frr),
        SeriesLabelPosition::LowerRight,
    )?;
    area.present().map_err(|e| anyhow!("{e:?}"))
}

fn draw_det<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    curves: &[Curve],
    title: &str,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(|e| anyhow!("{e:?}"))?;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((DET_FLOOR..1.0).log_scale(), (DET_FLOOR..1.0).log_scale())
        .map_err(|e| anyhow!("{e:?}"))?;
    chart
        .configure_mesh()
        .x_desc("false acceptance rate (APCER)")
        .y_desc("false rejection rate (BPCER)")
        .draw()
        .map_err(|e| anyhow!("{e:?}"))?;
    draw_curves(
        &mut chart,
        curves,
        |p| (p.far.max(DET_FLOOR), p.frr.max(DET_FLOOR)),
        SeriesLabelPosition::UpperRight,
    )?;
    area.present().map_err(|e| anyhow!("{e:?}"))
}

/// One line per curve (`point` maps an operating point to chart coordinates) and the legend.
fn draw_curves<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    curves: &[Curve],
    point: impl Fn(&OperatingPoint) -> (f64, f64),
    legend: SeriesLabelPosition,
) -> Result<()>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (curve, colour) in curves.iter().zip(COLOURS) {
        chart
            .draw_series(LineSeries::new(
                curve.points.iter().map(&point),
                colour.stroke_width(2),
            ))
            .map_err(|e| anyhow!("{e:?}"))?
            .label(curve.name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(legend)
        .draw()
        .map_err(|e| anyhow!("{e:?}"))
}

/// Writes `<dir>/roc.png`, `roc.svg`, `det.png` and `det.svg`.
pub fn write_roc_det(dir: &Path, curves: &[Curve], title: &str) -> Result<()> {
    register_font();
    let size = (720, 560);
    let path = |name: &str| dir.join(name);
    draw_roc(
        &BitMapBackend::new(&path("roc.png"), size).into_drawing_area(),
        curves,
        title,
    )?;
    draw_roc(
        &SVGBackend::new(&path("roc.svg"), size).into_drawing_area(),
        curves,
        title,
    )?;
    draw_det(
        &BitMapBackend::new(&path("det.png"), size).into_drawing_area(),
        curves,
        title,
    )?;
    draw_det(
        &SVGBackend::new(&path("det.svg"), size).into_drawing_area(),
        curves,
        title,
    )?;
    Ok(())
}
