//! Reading a customer summary (`frequency`, `recency`, `T` per customer) from CSV, the format the BG/NBD
//! literature and the `lifetimes` package exchange. Other columns (an id, monetary value) are ignored.

use crate::bgnbd::Observation;

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("the header has no `{0}` column")]
    MissingColumn(&'static str),
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error(transparent)]
    Csv(#[from] csv::Error),
}

/// Reads the summary; `frequency` must be a whole number, `recency` and `T` (or `age`) any non-negative number
/// in one time unit.
pub fn read_summary(input: impl std::io::Read) -> Result<Vec<Observation>, SummaryError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader.headers()?.clone();
    let find = |names: &[&str], label: &'static str| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
            .ok_or(SummaryError::MissingColumn(label))
    };
    let fi = find(&["frequency", "x"], "frequency")?;
    let ri = find(&["recency", "t_x"], "recency")?;
    let ti = find(&["T", "age"], "T")?;
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let row = |message: String| SummaryError::Row { line, message };
        let field = |i: usize| record.get(i).unwrap_or("");
        let frequency: u32 = field(fi)
            .parse()
            .map_err(|_| row(format!("frequency `{}` is not a whole number", field(fi))))?;
        let number = |i: usize, name: &str| {
            field(i)
                .parse::<f64>()
                .map_err(|_| row(format!("{name} `{}` is not a number", field(i))))
        };
        out.push(Observation {
            frequency,
            recency: number(ri, "recency")?,
            age: number(ti, "T")?,
        });
    }
    Ok(out)
}
