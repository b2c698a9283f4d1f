//! The model file: a safetensors container whose tensors carry timm's state-dict names and
//! whose `__metadata__` holds the HaTFAS [`Metadata`] as JSON.
//!
//! Layout of `__metadata__` (a string map, as safetensors requires):
//!
//! * `format` = `"hatfas-model"`;
//! * `format_version` = [`FORMAT_VERSION`] as a decimal string, checked before anything
//!   else is interpreted, so that a newer file is refused as such even if its layout changed;
//! * `metadata` = the JSON of [`Metadata`].
//!
//! Tensors are stored as F32, F16 or (for weight matrices of an int8 file) I8 with a
//! companion F32 tensor `"{name}.qscale"` holding one symmetric scale per output channel
//! (dimension 0). Readers accept F32, F16 and BF16 for any tensor and I8 only with a valid
//! scale tensor, and always decode to f32.
//!
//! A damaged or hostile file never panics the reader, and nothing is allocated from a
//! declared size that the input does not back: the header length is checked against the
//! buffer, every data offset against the data section, shape products use checked
//! arithmetic, and decoded data is at most four times the size of the input.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use half::f16;
use safetensors::{Dtype, SafeTensors};
use serde_json::{Map, Value};

use crate::metadata::{FORMAT_VERSION, Metadata, StorageDtype};

mod dtype;
use dtype::{Stored, decode_floats, dequantise, quantise};

/// Value of the `format` key in `__metadata__`.
pub const FORMAT_NAME: &str = "hatfas-model";

/// Largest model file [`ModelFile::read`] and [`ModelFile::from_bytes`] accept (2 GiB).
/// The largest preset (DeiT-Base, f32) is about 350 MB.
pub const MAX_FILE_BYTES: u64 = 2 << 30;

/// Largest safetensors header accepted (16 MiB). Ours are a few tens of kilobytes; the
/// safetensors crate itself allows 100 MB.
pub const MAX_HEADER_BYTES: u64 = 16 << 20;

/// Suffix of the per-output-channel scale tensor of an int8 tensor.
pub const QSCALE_SUFFIX: &str = ".qscale";

/// Origin used in errors of [`ModelFile::to_bytes`], which has no file name.
const IN_MEMORY: &str = "<in-memory model>";

/// One tensor in f32, timm layout, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl WeightTensor {
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        Self { shape, data }
    }

    /// Number of elements the shape describes, or `None` if the product overflows.
    pub fn numel(&self) -> Option<usize> {
        checked_numel(&self.shape)
    }
}

/// The tensors of a model by timm state-dict name.
pub type Weights = BTreeMap<String, WeightTensor>;

/// A model: its metadata and its weights in f32.
#[derive(Clone, Debug)]
pub struct ModelFile {
    pub metadata: Metadata,
    pub weights: Weights,
}

/// An error naming the file (or URL) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{origin}: {problem}")]
pub struct FileError {
    pub origin: String,
    pub problem: Problem,
}

impl FileError {
    pub fn new(origin: impl Into<String>, problem: Problem) -> Self {
        Self {
            origin: origin.into(),
            problem,
        }
    }
}

/// What is wrong with a model file.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("the file is empty")]
    Empty,
    /// Reading or writing failed; the text says which and why.
    #[error("{0}")]
    Io(String),
    #[error("the file is {size} bytes, more than the limit of {limit} bytes for a model file")]
    TooLarge { size: u64, limit: u64 },
    /// The safetensors container is damaged (truncated, absurd header length, header not
    /// JSON, offsets past the end or not covering the data, ...).
    #[error("not a valid safetensors file: {0}")]
    Container(String),
    /// A safetensors file whose `__metadata__` names another format (for example a plain
    /// PyTorch checkpoint saved with `{"format": "pt"}`).
    #[error(
        "not a HaTFAS model file: the safetensors metadata says format {format:?}, expected \
         \"hatfas-model\" (a plain checkpoint has to be imported first)"
    )]
    NotAModelFile { format: String },
    #[error(
        "no HaTFAS metadata: the safetensors `__metadata__` needs the keys `format`, \
         `format_version` and `metadata` (a plain checkpoint has to be imported first)"
    )]
    MissingMetadata,
    /// The metadata's header fields or JSON are unreadable.
    #[error("bad metadata: {0}")]
    BadMetadata(String),
    /// The metadata reads but its fields do not fit together.
    #[error("bad metadata: {0}")]
    InvalidMetadata(#[from] crate::MetadataError),
    #[error(
        "model file format version {found} is newer than this build supports ({supported}); \
         update the software"
    )]
    NewerVersion { found: u64, supported: u32 },
    #[error(
        "tensor `{tensor}` has dtype {dtype}, which a model file cannot hold (F32, F16, BF16, \
         or I8 with scales)"
    )]
    UnknownDtype { tensor: String, dtype: String },
    #[error("tensor `{tensor}` has shape {found:?}, expected {expected:?}")]
    WrongShape {
        tensor: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    /// The shape and the number of values of an in-memory tensor disagree.
    #[error("tensor `{tensor}` has {found} values, its shape needs {expected}")]
    DataLength {
        tensor: String,
        expected: usize,
        found: usize,
    },
    #[error("tensor `{0}` is missing")]
    MissingTensor(String),
    #[error("tensor `{0}` does not belong to this architecture")]
    UnexpectedTensor(String),
    #[error("tensor `{0}` holds NaN or infinite values")]
    NonFinite(String),
    /// The scales of an int8 tensor are missing, of the wrong shape or dtype, or not finite
    /// and positive.
    #[error("int8 tensor `{tensor}`: {problem}")]
    BadScale { tensor: String, problem: String },
    /// Values that the requested storage dtype cannot represent (f16 beyond +-65504).
    #[error("tensor `{tensor}` has values outside the range of {dtype}")]
    Unrepresentable { tensor: String, dtype: StorageDtype },
}

impl ModelFile {
    /// Parses and validates a model file. `origin` (file name or URL) prefixes every error.
    pub fn from_bytes(origin: &str, bytes: &[u8]) -> Result<Self, FileError> {
        decode(bytes).map_err(|problem| FileError::new(origin, problem))
    }

    /// Reads and parses a model file; errors name the path. Files over
    /// [`MAX_FILE_BYTES`] are refused before they are read.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, FileError> {
        use std::io::Read;
        let path = path.as_ref();
        let origin = path.display().to_string();
        let io = |what: &str, e: std::io::Error| {
            FileError::new(origin.clone(), Problem::Io(format!("cannot {what}: {e}")))
        };
        let file = std::fs::File::open(path).map_err(|e| io("open the file", e))?;
        let size = file
            .metadata()
            .map_err(|e| io("read the file's size", e))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(FileError::new(
                origin,
                Problem::TooLarge {
                    size,
                    limit: MAX_FILE_BYTES,
                },
            ));
        }
        // `size` fits: it is at most MAX_FILE_BYTES. Read at most one byte past the limit in
        // case the file grows meanwhile.
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io("read the file", e))?;
        Self::from_bytes(&origin, &bytes)
    }

    /// Serialises the model with `dtype` as storage (recorded in the metadata's `storage`).
    /// Validates first, so a bad model is never written.
    pub fn to_bytes(&self, dtype: StorageDtype) -> Result<Vec<u8>, FileError> {
        self.encode(IN_MEMORY, dtype)
    }

    /// Writes the model atomically: a temporary file in the same directory, fsync, rename.
    /// Errors name `path`.
    pub fn write(&self, path: impl AsRef<Path>, dtype: StorageDtype) -> Result<(), FileError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let bytes = self.encode(&origin, dtype)?;
        write_atomically(path, &bytes)
            .map_err(|e| FileError::new(origin, Problem::Io(format!("cannot write: {e}"))))
    }

    /// Checks the metadata and that `weights` holds exactly the tensors of the architecture,
    /// with their shapes, matching data lengths and finite values.
    pub fn validate(&self, origin: &str) -> Result<(), FileError> {
        self.check()
            .map_err(|problem| FileError::new(origin, problem))
    }

    fn check(&self) -> Result<(), Problem> {
        check_metadata(&self.metadata)?;
        let expected = self.metadata.architecture.tensor_shapes();
        for (name, shape) in &expected {
            let tensor = self
                .weights
                .get(name)
                .ok_or_else(|| Problem::MissingTensor(name.clone()))?;
            if &tensor.shape != shape {
                return Err(Problem::WrongShape {
                    tensor: name.clone(),
                    expected: shape.clone(),
                    found: tensor.shape.clone(),
                });
            }
            // The architecture was validated, so its shapes are bounded; be safe anyway.
            let numel = checked_numel(shape).ok_or_else(|| Problem::WrongShape {
                tensor: name.clone(),
                expected: shape.clone(),
                found: tensor.shape.clone(),
            })?;
            if tensor.data.len() != numel {
                return Err(Problem::DataLength {
                    tensor: name.clone(),
                    expected: numel,
                    found: tensor.data.len(),
                });
            }
            if tensor.data.iter().any(|v| !v.is_finite()) {
                return Err(Problem::NonFinite(name.clone()));
            }
        }
        if self.weights.len() != expected.len() {
            let known: BTreeSet<&str> = expected.iter().map(|(name, _)| name.as_str()).collect();
            if let Some(name) = self.weights.keys().find(|n| !known.contains(n.as_str())) {
                return Err(Problem::UnexpectedTensor(shown(name)));
            }
        }
        Ok(())
    }

    fn encode(&self, origin: &str, dtype: StorageDtype) -> Result<Vec<u8>, FileError> {
        self.validate(origin)?;
        self.serialise(dtype)
            .map_err(|problem| FileError::new(origin, problem))
    }

    /// Serialises without validating (the tests use it to build damaged files).
    fn serialise(&self, dtype: StorageDtype) -> Result<Vec<u8>, Problem> {
        let mut metadata = self.metadata.clone();
        metadata.storage = dtype;
        metadata.format_version = FORMAT_VERSION;
        let json = serde_json::to_string(&metadata)
            .map_err(|e| Problem::BadMetadata(format!("cannot serialise: {e}")))?;
        let info = BTreeMap::from([
            ("format".to_string(), FORMAT_NAME.to_string()),
            ("format_version".to_string(), FORMAT_VERSION.to_string()),
            ("metadata".to_string(), json),
        ]);

        let architecture = &self.metadata.architecture;
        let mut entries = Vec::with_capacity(self.weights.len() * 2);
        for (name, tensor) in &self.weights {
            match dtype {
                StorageDtype::F32 => entries.push(Entry::f32(name, tensor)),
                StorageDtype::F16 => {
                    let mut bytes = Vec::with_capacity(tensor.data.len() * 2);
                    for &v in &tensor.data {
                        let h = f16::from_f32(v);
                        if !h.is_finite() {
                            return Err(Problem::Unrepresentable {
                                tensor: name.clone(),
                                dtype,
                            });
                        }
                        bytes.extend_from_slice(&h.to_bits().to_le_bytes());
                    }
                    entries.push(Entry {
                        name: name.clone(),
                        dtype: Stored::F16,
                        shape: tensor.shape.clone(),
                        bytes,
                    });
                }
                StorageDtype::Int8 if architecture.is_quantisable(name, &tensor.shape) => {
                    let (q, scales) = quantise(tensor);
                    entries.push(Entry {
                        name: name.clone(),
                        dtype: Stored::I8,
                        shape: tensor.shape.clone(),
                        bytes: q.iter().map(|&v| v as u8).collect(),
                    });
                    entries.push(Entry::f32(
                        &format!("{name}{QSCALE_SUFFIX}"),
                        &WeightTensor::new(vec![scales.len()], scales),
                    ));
                }
                StorageDtype::Int8 => entries.push(Entry::f32(name, tensor)),
            }
        }
        assemble(&info, entries)
    }
}

/// One tensor ready to be written.
struct Entry {
    name: String,
    dtype: Stored,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Entry {
    fn f32(name: &str, tensor: &WeightTensor) -> Self {
        Self {
            name: name.to_string(),
            dtype: Stored::F32,
            shape: tensor.shape.clone(),
            bytes: tensor.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

/// Writes the safetensors container. Written here rather than with `safetensors::serialize`
/// because that takes the `__metadata__` as a `HashMap`, whose random order would make the
/// bytes differ from run to run; the result is checked with the crate's own parser.
fn assemble(info: &BTreeMap<String, String>, mut entries: Vec<Entry>) -> Result<Vec<u8>, Problem> {
    // Wider dtypes first (as safetensors does), so every tensor is aligned to its element
    // size given the 8-byte aligned start of the data section; then by name.
    entries.sort_by(|a, b| {
        b.dtype
            .size()
            .cmp(&a.dtype.size())
            .then(a.name.cmp(&b.name))
    });
    let mut header = Map::new();
    header.insert(
        "__metadata__".to_string(),
        Value::Object(
            info.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    let mut offset = 0usize;
    for entry in &entries {
        let end = offset + entry.bytes.len();
        header.insert(
            entry.name.clone(),
            serde_json::json!({
                "dtype": entry.dtype.name(),
                "shape": entry.shape,
                "data_offsets": [offset, end],
            }),
        );
        offset = end;
    }
    let mut header = serde_json::to_vec(&Value::Object(header))
        .map_err(|e| Problem::Container(format!("cannot serialise the header: {e}")))?;
    header.resize(header.len().next_multiple_of(8), b' ');

    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(&header);
    for entry in &entries {
        out.extend_from_slice(&entry.bytes);
    }
    SafeTensors::read_metadata(&out)
        .map_err(|e| Problem::Container(format!("internal error, wrote an invalid file: {e}")))?;
    Ok(out)
}

/// Parses a whole file.
fn decode(bytes: &[u8]) -> Result<ModelFile, Problem> {
    if bytes.is_empty() {
        return Err(Problem::Empty);
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Problem::TooLarge {
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    let (header, data_len) = parse_header(bytes)?;
    let metadata = read_metadata(&header)?;
    check_tensor_entries(&header, data_len)?;

    // The crate's own checks: offsets contiguous, sizes matching shape and dtype, the data
    // section fully covered.
    let container =
        SafeTensors::deserialize(bytes).map_err(|e| Problem::Container(e.to_string()))?;

    // Structure first (names, shapes, dtypes, scales), so that nothing is decoded from a
    // file that will be refused anyway.
    let mut names: Vec<&str> = container.names();
    names.sort_unstable();
    let present: BTreeSet<&str> = names.iter().copied().collect();
    let is_int8 = |name: &str| {
        container
            .tensor(name)
            .is_ok_and(|view| view.dtype() == Dtype::I8)
    };
    let expected: BTreeMap<String, Vec<usize>> =
        metadata.architecture.tensor_shapes().into_iter().collect();
    for name in &names {
        if let Some(base) = name.strip_suffix(QSCALE_SUFFIX)
            && present.contains(base)
            && is_int8(base)
        {
            continue;
        }
        if !expected.contains_key(*name) {
            return Err(Problem::UnexpectedTensor(shown(name)));
        }
    }

    let mut weights = Weights::new();
    for (name, shape) in &expected {
        let view = container
            .tensor(name)
            .map_err(|_| Problem::MissingTensor(name.clone()))?;
        if view.shape() != shape.as_slice() {
            return Err(Problem::WrongShape {
                tensor: name.clone(),
                expected: shape.clone(),
                found: view.shape().to_vec(),
            });
        }
        let stored = Stored::from_dtype(view.dtype()).ok_or_else(|| Problem::UnknownDtype {
            tensor: name.clone(),
            dtype: view.dtype().to_string(),
        })?;
        let data = if stored == Stored::I8 {
            let scales = read_scales(&container, name, shape)?;
            dequantise(view.data(), &scales)
        } else {
            decode_floats(stored, view.data())
        };
        if data.iter().any(|v| !v.is_finite()) {
            return Err(Problem::NonFinite(name.clone()));
        }
        weights.insert(name.clone(), WeightTensor::new(shape.clone(), data));
    }

    let model = ModelFile { metadata, weights };
    model.check()?;
    Ok(model)
}

/// Reads the header JSON after checking the length prefix against the buffer; returns it
/// with the length of the data section that follows.
fn parse_header(bytes: &[u8]) -> Result<(Map<String, Value>, u64), Problem> {
    let Some((prefix, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(Problem::Container(format!(
            "{} bytes is shorter than the 8-byte header length: truncated",
            bytes.len()
        )));
    };
    let declared = u64::from_le_bytes(*prefix);
    if declared > rest.len() as u64 {
        return Err(Problem::Container(format!(
            "the header length {declared} runs past the end of the file ({} bytes): truncated or \
             not a safetensors file",
            bytes.len()
        )));
    }
    if declared > MAX_HEADER_BYTES {
        return Err(Problem::Container(format!(
            "header too large: {declared} bytes, the limit is {MAX_HEADER_BYTES}"
        )));
    }
    // declared <= rest.len(), so it fits in usize.
    let header = &rest[..declared as usize];
    let value: Value = serde_json::from_slice(header)
        .map_err(|e| Problem::Container(format!("the header is not valid JSON: {e}")))?;
    let data_len = rest.len() as u64 - declared;
    match value {
        Value::Object(map) => Ok((map, data_len)),
        _ => Err(Problem::Container("the header is not a JSON object".into())),
    }
}

/// Reads the `__metadata__` map: the format name, then the version (before anything else,
/// so a newer file is reported as such), then the metadata JSON.
fn read_metadata(header: &Map<String, Value>) -> Result<Metadata, Problem> {
    let info = match header.get("__metadata__") {
        None => return Err(Problem::MissingMetadata),
        Some(Value::Object(info)) => info,
        Some(_) => {
            return Err(Problem::Container(
                "`__metadata__` is not a map of strings".into(),
            ));
        }
    };
    let text = |key: &str| -> Result<Option<&str>, Problem> {
        match info.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(Problem::Container(format!(
                "`__metadata__.{key}` is not a string"
            ))),
        }
    };
    let format = text("format")?.ok_or(Problem::MissingMetadata)?;
    if format != FORMAT_NAME {
        return Err(Problem::NotAModelFile {
            format: shown(format),
        });
    }
    let version_text = text("format_version")?.ok_or(Problem::MissingMetadata)?;
    let version: u64 = version_text.trim().parse().map_err(|_| {
        Problem::BadMetadata(format!(
            "format_version {:?} is not a number",
            shown(version_text)
        ))
    })?;
    if version > u64::from(FORMAT_VERSION) {
        return Err(Problem::NewerVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(Problem::BadMetadata("format_version 0 is not valid".into()));
    }
    let json = text("metadata")?.ok_or(Problem::MissingMetadata)?;
    let metadata: Metadata = serde_json::from_str(json)
        .map_err(|e| Problem::BadMetadata(format!("the metadata JSON is invalid: {e}")))?;
    check_metadata(&metadata)?;
    if u64::from(metadata.format_version) != version {
        return Err(Problem::BadMetadata(format!(
            "the metadata says format version {} but the file header says {version}",
            metadata.format_version
        )));
    }
    Ok(metadata)
}

fn check_metadata(metadata: &Metadata) -> Result<(), Problem> {
    if metadata.format_version > FORMAT_VERSION {
        return Err(Problem::NewerVersion {
            found: metadata.format_version.into(),
            supported: FORMAT_VERSION,
        });
    }
    Ok(metadata.validate()?)
}

/// Checks the tensor entries of the header before the safetensors crate sees them: dtypes we
/// can decode, and data offsets inside the data section (so that no sum of declared sizes
/// can overflow in the crate). Malformed entries are left to the crate to report.
fn check_tensor_entries(header: &Map<String, Value>, data_len: u64) -> Result<(), Problem> {
    for (name, entry) in header {
        if name == "__metadata__" {
            continue;
        }
        let Value::Object(entry) = entry else {
            continue;
        };
        if let Some(Value::String(dtype)) = entry.get("dtype")
            && Stored::parse(dtype).is_none()
        {
            return Err(Problem::UnknownDtype {
                tensor: shown(name),
                dtype: shown(dtype),
            });
        }
        if let Some(Value::Array(offsets)) = entry.get("data_offsets") {
            for offset in offsets.iter().filter_map(Value::as_u64) {
                if offset > data_len {
                    return Err(Problem::Container(format!(
                        "the data of tensor `{}` runs past the end of the file (offset {offset}, \
                         {data_len} bytes of data): truncated",
                        shown(name)
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The scales of int8 tensor `name` of shape `shape`: `[shape[0]]`, finite and positive.
fn read_scales(
    container: &SafeTensors<'_>,
    name: &str,
    shape: &[usize],
) -> Result<Vec<f32>, Problem> {
    let bad = |problem: String| Problem::BadScale {
        tensor: name.to_string(),
        problem,
    };
    let scale_name = format!("{name}{QSCALE_SUFFIX}");
    let Some(&rows) = shape.first() else {
        return Err(bad("a scalar cannot be stored as int8".into()));
    };
    let view = container
        .tensor(&scale_name)
        .map_err(|_| bad(format!("its scales `{scale_name}` are missing")))?;
    if view.shape() != [rows] {
        return Err(bad(format!(
            "its scales `{scale_name}` have shape {:?}, expected [{rows}]",
            view.shape()
        )));
    }
    let stored = match Stored::from_dtype(view.dtype()) {
        Some(stored) if stored != Stored::I8 => stored,
        _ => {
            return Err(bad(format!(
                "its scales `{scale_name}` have dtype {}, expected a float type",
                view.dtype()
            )));
        }
    };
    let scales = decode_floats(stored, view.data());
    if scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(bad(format!(
            "its scales `{scale_name}` must be finite and positive"
        )));
    }
    Ok(scales)
}

/// Element count of a shape, `None` on overflow.
fn checked_numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

/// A name or value from a file, cut short for error messages.
fn shown(text: &str) -> String {
    const LIMIT: usize = 120;
    match text.char_indices().nth(LIMIT) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}...", &text[..cut]),
    }
}

/// Writes `bytes` to a temporary sibling of `path`, syncs it and renames it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);

    let file_name = path.file_name().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "the path names no file")
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    // `std::process::id` is unavailable on wasm32-unknown-unknown (where writing files
    // fails anyway).
    #[cfg(not(target_family = "wasm"))]
    let pid = std::process::id();
    #[cfg(target_family = "wasm")]
    let pid = 0u32;

    let mut attempt = 0;
    let (temp_path, file) = loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(file_name);
        temp_name.push(format!(".{pid}.{n}.tmp"));
        let temp_path = dir.join(temp_name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(file) => break (temp_path, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let written = {
        // Moved in, so that it is closed at the end of this block, before the rename
        // (Windows cannot rename an open file).
        let mut file = file;
        file.write_all(bytes).and_then(|()| file.sync_all())
    };
    let result = written.and_then(|()| std::fs::rename(&temp_path, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp_path);
        return Err(e);
    }
    // Make the rename durable; not possible (nor needed) everywhere, so best effort.
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
