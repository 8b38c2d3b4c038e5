//! Matrix Market files: read into a [`CscMatrix`] (or a dense `faer::Mat` for right-hand
//! sides) and write back.
//!
//! The format is NIST's (<https://math.nist.gov/MatrixMarket/formats.html>): a banner
//! `%%MatrixMarket matrix <format> <field> <symmetry>`, comment lines starting with `%`, a
//! size line, then the entries with 1-based indices. This reader accepts
//!
//! - formats `coordinate` and `array`;
//! - fields `real`, `complex`, `integer` and `pattern` (pattern entries read as 1);
//! - symmetries `general`, `symmetric`, `skew-symmetric` and `hermitian`, always expanded
//!   to the full matrix (the solver stores both triangles);
//! - gzip-compressed files, recognised by their content (magic bytes `1f 8b`), whatever
//!   their name;
//! - banner words in any case, blank lines anywhere after the banner, Fortran exponents
//!   (`1.5D+03`), CRLF line ends.
//!
//! Duplicate coordinates are summed. In a symmetric, skew-symmetric or Hermitian file an
//! entry may lie in either triangle (it is mirrored); if both `(i, j)` and `(j, i)` are
//! given, they are summed like duplicates, and both positions get the sum. Explicit zeros of
//! a coordinate file are kept in the pattern; zeros of an array file are dropped (the array
//! format has no pattern). A malformed file gives [`Error::Parse`] with the 1-based line
//! (line 0: the file is empty), never a panic.
//!
//! ```
//! use tessera::sparse::mm::{read_matrix_market_from, write_matrix_market_to, MmSymmetry};
//! let text = "%%MatrixMarket matrix coordinate real symmetric\n% a comment\n2 2 2\n1 1 4\n2 1 -1\n";
//! let (a, header) = read_matrix_market_from::<f64, _>(text.as_bytes()).unwrap();
//! assert_eq!((a.nrows(), a.nnz(), header.entries), (2, 3, 2));
//! let mut out = Vec::new();
//! write_matrix_market_to(&mut out, &a, MmSymmetry::Symmetric).unwrap();
//! let (b, _) = read_matrix_market_from::<f64, _>(&out[..]).unwrap();
//! assert_eq!(a, b);
//! ```

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::str::FromStr;

use faer::{Mat, MatRef};

use super::csc::CscMatrix;
use crate::error::{Error, Result};
use crate::Scalar;

/// How the entries are laid out: a list of `(i, j, value)` or all values column by column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MmFormat {
    /// `coordinate`: one `i j value` line per stored entry.
    Coordinate,
    /// `array`: every value in column-major order (only the lower triangle for symmetric
    /// kinds, without the diagonal for skew-symmetric).
    Array,
}

/// The type of the values in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MmField {
    /// `real`: one floating-point value per entry.
    Real,
    /// `complex`: real and imaginary parts.
    Complex,
    /// `integer`: one integer per entry (read as a real value).
    Integer,
    /// `pattern`: no value; the entries read as 1.
    Pattern,
}

/// Which part of the matrix a file stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MmSymmetry {
    /// `general`: every entry.
    General,
    /// `symmetric`: `A = A^T`, one triangle stored.
    Symmetric,
    /// `skew-symmetric`: `A = -A^T` (zero diagonal), the strictly lower triangle stored.
    SkewSymmetric,
    /// `hermitian`: `A = A^H` (real diagonal), one triangle stored.
    Hermitian,
}

/// What the banner and the size line of a file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MmHeader {
    /// `coordinate` or `array`.
    pub format: MmFormat,
    /// Type of the values.
    pub field: MmField,
    /// Which part of the matrix is stored.
    pub symmetry: MmSymmetry,
    /// Number of rows.
    pub nrows: usize,
    /// Number of columns.
    pub ncols: usize,
    /// Entries stored in the file (coordinate: the count on the size line; array: the
    /// number of values, e.g. `n (n + 1) / 2` for a symmetric file). For symmetric kinds the
    /// expanded matrix has more.
    pub entries: usize,
}

macro_rules! word_enum {
    ($t:ty, $what:literal, $($v:path => $s:literal),+) => {
        impl $t {
            /// The word used in the banner.
            pub fn name(self) -> &'static str {
                match self {
                    $($v => $s,)+
                }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
        impl FromStr for $t {
            type Err = String;
            /// Parses the banner word, in any case.
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                $(if s.eq_ignore_ascii_case($s) {
                    return Ok($v);
                })+
                Err(format!(
                    concat!("unknown ", $what, " '{}' (expected one of:", $(" ", $s,)+ ")"),
                    s
                ))
            }
        }
    };
}

word_enum!(MmFormat, "format", MmFormat::Coordinate => "coordinate", MmFormat::Array => "array");
word_enum!(MmField, "field", MmField::Real => "real", MmField::Complex => "complex",
    MmField::Integer => "integer", MmField::Pattern => "pattern");
word_enum!(MmSymmetry, "symmetry", MmSymmetry::General => "general",
    MmSymmetry::Symmetric => "symmetric", MmSymmetry::SkewSymmetric => "skew-symmetric",
    MmSymmetry::Hermitian => "hermitian");

const BANNER_HELP: &str = "expected '%%MatrixMarket matrix coordinate|array \
    real|complex|integer|pattern general|symmetric|skew-symmetric|hermitian'";

fn parse_err(line: usize, message: impl Into<String>) -> Error {
    Error::Parse {
        line,
        message: message.into(),
    }
}

/// Puts the file name in front of the message of a parse or I/O error.
fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Parse { line, message } => Error::Parse {
            line,
            message: format!("{}: {message}", path.display()),
        },
        Error::Io(m) => Error::Io(format!("{}: {m}", path.display())),
        e => e,
    }
}

fn open(path: &Path) -> Result<BufReader<File>> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|e| Error::Io(format!("cannot open {}: {e}", path.display())))
}

/// Whether the stream starts with the gzip magic bytes (without consuming them).
fn starts_with_gzip<R: BufRead>(r: &mut R) -> Result<bool> {
    let buf = r
        .fill_buf()
        .map_err(|e| Error::Io(format!("reading the first bytes: {e}")))?;
    Ok(buf.len() >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
}

/// Line reader that counts lines (1-based) and checks that they are text.
struct Lines<R> {
    r: R,
    bytes: Vec<u8>,
    text: String,
    line: usize,
}

impl<R: BufRead> Lines<R> {
    fn new(r: R) -> Self {
        Lines {
            r,
            bytes: Vec::new(),
            text: String::new(),
            line: 0,
        }
    }

    /// Reads the next line into `self.text` (without its end of line); false at the end.
    fn next_line(&mut self) -> Result<bool> {
        self.bytes.clear();
        let n = self
            .r
            .read_until(b'\n', &mut self.bytes)
            .map_err(|e| Error::Io(format!("reading line {}: {e}", self.line + 1)))?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        let s = std::str::from_utf8(&self.bytes).map_err(|_| {
            parse_err(
                self.line,
                "the line is not text (UTF-8); is this a Matrix Market file?",
            )
        })?;
        self.text.clear();
        self.text.push_str(s.trim_end_matches(['\n', '\r']));
        Ok(true)
    }

    /// Reads the next line that is neither blank nor a `%` comment; false at the end.
    fn next_data(&mut self) -> Result<bool> {
        while self.next_line()? {
            let t = self.text.trim_start();
            if !t.is_empty() && !t.starts_with('%') {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn parse_banner(line: &str) -> Result<(MmFormat, MmField, MmSymmetry)> {
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    if words
        .first()
        .is_none_or(|w| !w.eq_ignore_ascii_case("%%MatrixMarket"))
    {
        let shown: String = line.chars().take(60).collect();
        return Err(parse_err(
            1,
            format!("the first line is not a Matrix Market banner: found '{shown}', {BANNER_HELP}"),
        ));
    }
    if words.len() != 5 {
        return Err(parse_err(
            1,
            format!("the banner has {} words, {BANNER_HELP}", words.len()),
        ));
    }
    if !words[1].eq_ignore_ascii_case("matrix") {
        return Err(parse_err(
            1,
            format!("object '{}' is not supported, only 'matrix'", words[1]),
        ));
    }
    let format: MmFormat = words[2].parse().map_err(|m: String| parse_err(1, m))?;
    let field: MmField = words[3].parse().map_err(|m: String| parse_err(1, m))?;
    let symmetry: MmSymmetry = words[4].parse().map_err(|m: String| parse_err(1, m))?;
    if format == MmFormat::Array && field == MmField::Pattern {
        return Err(parse_err(
            1,
            "an 'array' file cannot have the 'pattern' field",
        ));
    }
    if field == MmField::Pattern && symmetry == MmSymmetry::SkewSymmetric {
        return Err(parse_err(
            1,
            "a 'pattern' file cannot be 'skew-symmetric' (the signs of the values are unknown)",
        ));
    }
    Ok((format, field, symmetry))
}

fn parse_size(line: &str, lineno: usize, format: MmFormat) -> Result<(usize, usize, usize)> {
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    let expected = match format {
        MmFormat::Coordinate => 3,
        MmFormat::Array => 2,
    };
    let help = match format {
        MmFormat::Coordinate => "'rows columns entries'",
        MmFormat::Array => "'rows columns'",
    };
    let nums: Option<Vec<usize>> = words.iter().map(|w| w.parse::<usize>().ok()).collect();
    match nums {
        Some(v) if v.len() == expected => Ok((v[0], v[1], if expected == 3 { v[2] } else { 0 })),
        _ => Err(parse_err(
            lineno,
            format!("the size line of a '{format}' file must be {help} (non-negative integers), found '{line}'"),
        )),
    }
}

fn parse_index(word: &str, what: &str, bound: usize, lineno: usize) -> Result<usize> {
    let i: usize = word.parse().map_err(|_| {
        parse_err(
            lineno,
            format!("{what} index '{word}' is not a positive integer"),
        )
    })?;
    if i == 0 || i > bound {
        return Err(parse_err(
            lineno,
            format!("{what} index {i} is out of range 1..={bound} (indices are 1-based)"),
        ));
    }
    Ok(i - 1)
}

fn parse_real(word: &str, lineno: usize) -> Result<f64> {
    if let Ok(v) = word.parse::<f64>() {
        return Ok(v);
    }
    // Fortran double-precision exponents (1.5D+03), found in converted Harwell-Boeing files.
    if word.contains(['d', 'D']) {
        if let Ok(v) = word.replace(['d', 'D'], "e").parse::<f64>() {
            return Ok(v);
        }
    }
    Err(parse_err(lineno, format!("value '{word}' is not a number")))
}

fn parse_value<T: Scalar>(words: &[&str], field: MmField, lineno: usize) -> Result<T> {
    Ok(match field {
        MmField::Pattern => T::one(),
        MmField::Real => T::from_f64(parse_real(words[0], lineno)?),
        MmField::Integer => {
            let v: i64 = words[0].parse().map_err(|_| {
                parse_err(
                    lineno,
                    format!(
                        "value '{}' is not an integer (the field is 'integer')",
                        words[0]
                    ),
                )
            })?;
            T::from_f64(v as f64)
        }
        MmField::Complex => {
            T::from_parts(parse_real(words[0], lineno)?, parse_real(words[1], lineno)?)
        }
    })
}

fn value_count(field: MmField) -> usize {
    match field {
        MmField::Pattern => 0,
        MmField::Real | MmField::Integer => 1,
        MmField::Complex => 2,
    }
}

/// Appends the entry `(i, j) = v` and, for the symmetric kinds, its mirror image.
fn push_expanded<T: Scalar>(
    out: &mut Vec<(usize, usize, T)>,
    symmetry: MmSymmetry,
    (i, j, v): (usize, usize, T),
    lineno: usize,
) -> Result<()> {
    out.push((i, j, v));
    if i == j {
        match symmetry {
            MmSymmetry::SkewSymmetric if v != T::zero() => {
                return Err(parse_err(
                    lineno,
                    format!(
                        "diagonal entry ({0}, {0}) of a skew-symmetric matrix must be zero",
                        i + 1
                    ),
                ))
            }
            MmSymmetry::Hermitian if v.im() != 0.0 => {
                return Err(parse_err(
                    lineno,
                    format!(
                        "diagonal entry ({0}, {0}) of a Hermitian matrix must be real, its imaginary part is {1:e}",
                        i + 1,
                        v.im()
                    ),
                ))
            }
            _ => {}
        }
        return Ok(());
    }
    match symmetry {
        MmSymmetry::General => {}
        MmSymmetry::Symmetric => out.push((j, i, v)),
        MmSymmetry::SkewSymmetric => out.push((j, i, -v)),
        MmSymmetry::Hermitian => out.push((j, i, v.conj())),
    }
    Ok(())
}

/// Reads the banner and the size line; returns the header and the size line's number.
fn parse_header<R: BufRead>(lines: &mut Lines<R>) -> Result<(MmHeader, usize)> {
    if !lines.next_line()? {
        return Err(parse_err(0, format!("the file is empty, {BANNER_HELP}")));
    }
    let (format, field, symmetry) = parse_banner(&lines.text)?;
    if !lines.next_data()? {
        return Err(parse_err(
            lines.line,
            "the file ends before the size line (truncated file?)",
        ));
    }
    let size_line = lines.line;
    let (nrows, ncols, declared) = parse_size(&lines.text, size_line, format)?;
    if symmetry != MmSymmetry::General && nrows != ncols {
        return Err(parse_err(
            size_line,
            format!("a '{symmetry}' matrix must be square, the size line says {nrows} x {ncols}"),
        ));
    }
    let entries = match (format, symmetry) {
        (MmFormat::Coordinate, _) => Some(declared),
        (MmFormat::Array, MmSymmetry::General) => nrows.checked_mul(ncols),
        (MmFormat::Array, MmSymmetry::SkewSymmetric) => {
            nrows.checked_mul(nrows.saturating_sub(1)).map(|p| p / 2)
        }
        (MmFormat::Array, _) => nrows.checked_mul(nrows + 1).map(|p| p / 2),
    }
    .ok_or_else(|| parse_err(size_line, format!("{nrows} x {ncols} is too large")))?;
    let header = MmHeader {
        format,
        field,
        symmetry,
        nrows,
        ncols,
        entries,
    };
    Ok((header, size_line))
}

/// Entries `(row, column, value)`, 0-based.
type Entries<T> = Vec<(usize, usize, T)>;

/// Reads a whole (uncompressed) file: its header and the entries of the full matrix, in
/// file order, duplicates not yet summed.
fn parse<T: Scalar, R: BufRead>(r: R) -> Result<(MmHeader, Entries<T>)> {
    let mut lines = Lines::new(r);
    let (header, size_line) = parse_header(&mut lines)?;
    let MmHeader {
        format,
        field,
        symmetry,
        nrows,
        ncols,
        entries,
    } = header;
    if field == MmField::Complex && !T::DTYPE.is_complex() {
        return Err(parse_err(
            1,
            format!(
                "the file holds complex values and cannot be read as {}; read it as c64 (or c32)",
                T::DTYPE.name()
            ),
        ));
    }

    let nvals = value_count(field);
    let (nidx, what) = match format {
        MmFormat::Coordinate => (2, "'row column value(s)'"),
        MmFormat::Array => (0, "the value(s)"),
    };
    let mut out: Vec<(usize, usize, T)> = Vec::with_capacity(entries.min(1 << 22));
    // Array format: position of the next value, column by column.
    let (mut ai, mut aj) = (0usize, 0usize);
    if format == MmFormat::Array && symmetry == MmSymmetry::SkewSymmetric {
        ai = 1;
    }
    let mut count = 0usize;
    while count < entries {
        if !lines.next_data()? {
            return Err(parse_err(
                lines.line,
                format!(
                    "the file ends after {count} of the {entries} entries declared on line {size_line} (truncated file?)"
                ),
            ));
        }
        let lineno = lines.line;
        let words: Vec<&str> = lines.text.split_ascii_whitespace().collect();
        if words.len() != nidx + nvals {
            let problem = if words.len() < nidx + nvals {
                "missing"
            } else {
                "too many"
            };
            return Err(parse_err(
                lineno,
                format!(
                    "{problem} fields: a '{field}' entry is {what} ({} numbers), found {}",
                    nidx + nvals,
                    words.len()
                ),
            ));
        }
        let (i, j) = match format {
            MmFormat::Coordinate => (
                parse_index(words[0], "row", nrows, lineno)?,
                parse_index(words[1], "column", ncols, lineno)?,
            ),
            MmFormat::Array => (ai, aj),
        };
        let v: T = parse_value(&words[nidx..], field, lineno)?;
        push_expanded(&mut out, symmetry, (i, j, v), lineno)?;
        count += 1;
        if format == MmFormat::Array {
            ai += 1;
            if ai == nrows {
                aj += 1;
                ai = match symmetry {
                    MmSymmetry::General => 0,
                    MmSymmetry::SkewSymmetric => aj + 1,
                    _ => aj,
                };
            }
        }
    }
    if lines.next_data()? {
        return Err(parse_err(
            lines.line,
            format!("too many entries: line {size_line} declares {entries}"),
        ));
    }
    Ok((header, out))
}

/// Parses, decompressing first when the stream is gzip.
fn parse_any<T: Scalar, R: BufRead>(mut r: R) -> Result<(MmHeader, Entries<T>)> {
    if starts_with_gzip(&mut r)? {
        parse(BufReader::new(flate2::bufread::MultiGzDecoder::new(r)))
    } else {
        parse(r)
    }
}

/// Fails with a parse error (instead of aborting) when `n` elements of `E` cannot be
/// allocated, e.g. for a size line that declares an absurd dimension.
fn check_alloc<E>(n: Option<usize>, line_msg: &str) -> Result<()> {
    let mut probe: Vec<E> = Vec::new();
    match n {
        Some(n) if probe.try_reserve_exact(n).is_ok() => Ok(()),
        _ => Err(parse_err(
            0,
            format!("{line_msg} is too large to allocate; check the size line"),
        )),
    }
}

/// Reads only the banner and the size line of a Matrix Market file (plain or gzip), e.g.
/// to choose the element type before reading the values.
///
/// ```
/// use tessera::sparse::mm::{read_header_from, MmField, MmSymmetry};
/// let text = "%%MatrixMarket matrix coordinate complex hermitian\n3 3 4\n";
/// let h = read_header_from(text.as_bytes()).unwrap();
/// assert_eq!((h.field, h.symmetry, h.nrows, h.entries), (MmField::Complex, MmSymmetry::Hermitian, 3, 4));
/// ```
pub fn read_header(path: &Path) -> Result<MmHeader> {
    read_header_from(open(path)?).map_err(|e| with_path(e, path))
}

/// [`read_header`] from any buffered reader (gzip is detected from the first bytes).
pub fn read_header_from<R: BufRead>(mut r: R) -> Result<MmHeader> {
    if starts_with_gzip(&mut r)? {
        parse_header(&mut Lines::new(BufReader::new(
            flate2::bufread::MultiGzDecoder::new(r),
        )))
        .map(|h| h.0)
    } else {
        parse_header(&mut Lines::new(r)).map(|h| h.0)
    }
}

/// Reads a Matrix Market file (plain or gzip-compressed) into a sparse matrix, expanding
/// symmetric, skew-symmetric and Hermitian storage to the full matrix.
///
/// See the [module documentation](self) for what is accepted. A complex file cannot be read
/// into a real type (the error says to read it as complex); a real, integer or pattern file
/// can be read into any type.
///
/// ```no_run
/// use std::path::Path;
/// use tessera::sparse::mm::read_matrix_market;
/// let (a, header) = read_matrix_market::<f64>(Path::new("matrices/lap2d_10x10.mtx")).unwrap();
/// println!("{} x {}, {} entries ({:?})", a.nrows(), a.ncols(), a.nnz(), header.symmetry);
/// ```
pub fn read_matrix_market<T: Scalar>(path: &Path) -> Result<(CscMatrix<T>, MmHeader)> {
    read_matrix_market_from(open(path)?).map_err(|e| with_path(e, path))
}

/// [`read_matrix_market`] from any buffered reader (gzip is detected from the first bytes).
pub fn read_matrix_market_from<T: Scalar, R: BufRead>(r: R) -> Result<(CscMatrix<T>, MmHeader)> {
    let (header, mut entries) = parse_any::<T, R>(r)?;
    if header.format == MmFormat::Array {
        entries.retain(|e| e.2 != T::zero());
    }
    check_alloc::<usize>(header.ncols.checked_add(1), "the number of columns")?;
    let a = CscMatrix::from_triplets(header.nrows, header.ncols, &entries)?;
    Ok((a, header))
}

/// Reads a Matrix Market file (plain or gzip, `array` or `coordinate`) into a dense matrix,
/// e.g. right-hand sides. Symmetric storage is expanded; duplicates are summed.
///
/// ```
/// use tessera::sparse::mm::read_dense_matrix_market_from;
/// let text = "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n";
/// let b = read_dense_matrix_market_from::<f64, _>(text.as_bytes()).unwrap();
/// assert_eq!((b[(1, 0)], b[(0, 1)]), (2.0, 3.0));
/// ```
pub fn read_dense_matrix_market<T: Scalar>(path: &Path) -> Result<Mat<T>> {
    read_dense_matrix_market_from(open(path)?).map_err(|e| with_path(e, path))
}

/// [`read_dense_matrix_market`] from any buffered reader (gzip is detected from the first
/// bytes).
pub fn read_dense_matrix_market_from<T: Scalar, R: BufRead>(r: R) -> Result<Mat<T>> {
    let (header, entries) = parse_any::<T, R>(r)?;
    check_alloc::<T>(header.nrows.checked_mul(header.ncols), "the dense matrix")?;
    let mut m = Mat::<T>::zeros(header.nrows, header.ncols);
    for (i, j, v) in entries {
        m[(i, j)] += v;
    }
    Ok(m)
}

fn io_write(e: std::io::Error) -> Error {
    Error::Io(format!("writing Matrix Market data: {e}"))
}

/// Writes `{:e}` of the parts: Rust prints the shortest decimal that reads back to the
/// same bits, so a round trip is exact (f32 values are written as their exact f64 value).
fn write_value<T: Scalar, W: Write>(w: &mut W, v: T) -> std::io::Result<()> {
    if T::DTYPE.is_complex() {
        write!(w, "{:e} {:e}", v.re(), v.im())
    } else {
        write!(w, "{:e}", v.re())
    }
}

fn field_name<T: Scalar>() -> &'static str {
    if T::DTYPE.is_complex() {
        "complex"
    } else {
        "real"
    }
}

/// Opens `path` for writing (through gzip when it ends in `.gz`), lets `body` write, and
/// finishes the stream.
fn write_file(path: &Path, body: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let file = File::create(path)
        .map_err(|e| Error::Io(format!("cannot create {}: {e}", path.display())))?;
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let res = if gz {
        let mut enc =
            flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
        body(&mut enc).and_then(|_| enc.finish().and_then(|mut w| w.flush()).map_err(io_write))
    } else {
        let mut w = BufWriter::new(file);
        body(&mut w).and_then(|_| w.flush().map_err(io_write))
    };
    res.map_err(|e| with_path(e, path))
}

/// Writes `a` as a Matrix Market `coordinate` file (gzip-compressed when the path ends in
/// `.gz`), field `real` or `complex` after `T`, values at full precision (reading back gives
/// the same bits).
///
/// With [`MmSymmetry::Symmetric`], [`MmSymmetry::Hermitian`] or
/// [`MmSymmetry::SkewSymmetric`] only the lower triangle is written (strictly lower for
/// skew), after checking that `a` has that symmetry exactly (else an
/// [`Error::InvalidArgument`] that says to write it as general). A real matrix written as
/// Hermitian gets the banner `symmetric` (the format has no real Hermitian kind).
pub fn write_matrix_market<T: Scalar>(
    path: &Path,
    a: &CscMatrix<T>,
    symmetry: MmSymmetry,
) -> Result<()> {
    write_file(path, |w| write_matrix_market_to(w, a, symmetry))
}

/// [`write_matrix_market`] to any writer (uncompressed).
pub fn write_matrix_market_to<T: Scalar, W: Write>(
    w: W,
    a: &CscMatrix<T>,
    symmetry: MmSymmetry,
) -> Result<()> {
    let banner_symmetry = match symmetry {
        MmSymmetry::General => MmSymmetry::General,
        MmSymmetry::Symmetric => {
            if !a.is_symmetric(false) {
                return Err(not_sym("symmetric"));
            }
            MmSymmetry::Symmetric
        }
        MmSymmetry::Hermitian => {
            if !a.is_symmetric(true) {
                return Err(not_sym("Hermitian"));
            }
            if T::DTYPE.is_complex() {
                MmSymmetry::Hermitian
            } else {
                MmSymmetry::Symmetric
            }
        }
        MmSymmetry::SkewSymmetric => {
            let t = a.transpose();
            let skew = a.nrows() == a.ncols()
                && t.col_ptr() == a.col_ptr()
                && t.row_idx() == a.row_idx()
                && t.values().iter().zip(a.values()).all(|(&x, &y)| x == -y);
            if !skew {
                return Err(not_sym("skew-symmetric"));
            }
            MmSymmetry::SkewSymmetric
        }
    };
    let keep = |i: usize, j: usize| match symmetry {
        MmSymmetry::General => true,
        MmSymmetry::SkewSymmetric => i > j,
        _ => i >= j,
    };
    let mut count = 0;
    for j in 0..a.ncols() {
        count += a.col(j).0.iter().filter(|&&i| keep(i, j)).count();
    }
    let mut w = BufWriter::new(w);
    let body = (|| -> std::io::Result<()> {
        writeln!(
            w,
            "%%MatrixMarket matrix coordinate {} {banner_symmetry}",
            field_name::<T>()
        )?;
        writeln!(w, "% written by tessera")?;
        writeln!(w, "{} {} {count}", a.nrows(), a.ncols())?;
        for j in 0..a.ncols() {
            let (rows, vals) = a.col(j);
            for (&i, &v) in rows.iter().zip(vals) {
                if keep(i, j) {
                    write!(w, "{} {} ", i + 1, j + 1)?;
                    write_value(&mut w, v)?;
                    writeln!(w)?;
                }
            }
        }
        w.flush()
    })();
    body.map_err(io_write)
}

fn not_sym(kind: &str) -> Error {
    Error::invalid(
        0,
        format!("the matrix is not exactly {kind}; write it with MmSymmetry::General"),
    )
}

/// Writes a dense matrix (e.g. right-hand sides or solutions) as a Matrix Market `array`
/// `general` file, column by column, at full precision; gzip-compressed when the path ends
/// in `.gz`.
pub fn write_dense_matrix_market<T: Scalar>(path: &Path, m: MatRef<'_, T>) -> Result<()> {
    write_file(path, |w| write_dense_matrix_market_to(w, m))
}

/// [`write_dense_matrix_market`] to any writer (uncompressed).
///
/// ```
/// use tessera::sparse::mm::{read_dense_matrix_market_from, write_dense_matrix_market_to};
/// let b = faer::Mat::<f64>::from_fn(3, 2, |i, j| (i + 10 * j) as f64 / 3.0);
/// let mut out = Vec::new();
/// write_dense_matrix_market_to(&mut out, b.as_ref()).unwrap();
/// assert_eq!(read_dense_matrix_market_from::<f64, _>(&out[..]).unwrap(), b);
/// ```
pub fn write_dense_matrix_market_to<T: Scalar, W: Write>(w: W, m: MatRef<'_, T>) -> Result<()> {
    let mut w = BufWriter::new(w);
    let body = (|| -> std::io::Result<()> {
        writeln!(
            w,
            "%%MatrixMarket matrix array {} general",
            field_name::<T>()
        )?;
        writeln!(w, "% written by tessera")?;
        writeln!(w, "{} {}", m.nrows(), m.ncols())?;
        for j in 0..m.ncols() {
            for i in 0..m.nrows() {
                write_value(&mut w, m[(i, j)])?;
                writeln!(w)?;
            }
        }
        w.flush()
    })();
    body.map_err(io_write)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparse::gen;
    use crate::{c32, c64};
    use std::path::PathBuf;

    fn read<T: Scalar>(text: &str) -> Result<(CscMatrix<T>, MmHeader)> {
        read_matrix_market_from(text.as_bytes())
    }

    fn tmp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("tessera_mm_{}_{name}", std::process::id()))
    }

    fn write_string<T: Scalar>(a: &CscMatrix<T>, s: MmSymmetry) -> String {
        let mut out = Vec::new();
        write_matrix_market_to(&mut out, a, s).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A real matrix with awkward values: thirds, tiny, huge, negative zero, subnormal.
    fn awkward() -> CscMatrix<f64> {
        let vals = [
            1.0 / 3.0,
            -2.0 / 7.0,
            1e-300,
            1.7976931348623157e308,
            -0.0,
            5e-324,
            0.1,
            -12345.678,
        ];
        let t: Vec<_> = vals
            .iter()
            .enumerate()
            .map(|(k, &v)| ((k * 5) % 7, (k * 3) % 5, v))
            .collect();
        CscMatrix::from_triplets(7, 5, &t).unwrap()
    }

    fn assert_bitwise<T: Scalar>(a: &CscMatrix<T>, b: &CscMatrix<T>) {
        assert_eq!((a.nrows(), a.ncols()), (b.nrows(), b.ncols()));
        assert_eq!(a.col_ptr(), b.col_ptr());
        assert_eq!(a.row_idx(), b.row_idx());
        for (x, y) in a.values().iter().zip(b.values()) {
            assert_eq!(x.re().to_bits(), y.re().to_bits());
            assert_eq!(x.im().to_bits(), y.im().to_bits());
        }
    }

    #[test]
    fn coordinate_general_with_comments_duplicates_and_case() {
        let text = "%%matrixmarket MATRIX Coordinate REAL General\n% comment\n\n  % indented comment\n\
                    3 4 5\n1 1 1.5\n3 4 -2e1\n\n2 2 1.0D+01\n1 1 0.5\r\n3 2 0\n% trailing comment\n";
        let (a, h) = read::<f64>(text).unwrap();
        assert_eq!(
            h,
            MmHeader {
                format: MmFormat::Coordinate,
                field: MmField::Real,
                symmetry: MmSymmetry::General,
                nrows: 3,
                ncols: 4,
                entries: 5
            }
        );
        // Duplicate (1, 1) summed; explicit zero (3, 2) kept.
        assert_eq!(a.nnz(), 4);
        let d = a.to_dense();
        assert_eq!(
            (d[(0, 0)], d[(1, 1)], d[(2, 3)], d[(2, 1)]),
            (2.0, 10.0, -20.0, 0.0)
        );
        assert_eq!(a.col(1).0, &[1, 2]);
    }

    #[test]
    fn symmetric_kinds_are_expanded() {
        // Symmetric, with one entry given in the upper triangle.
        let s = "%%MatrixMarket matrix coordinate real symmetric\n3 3 4\n1 1 2\n2 1 -1\n2 3 -1\n3 3 2\n";
        let (a, h) = read::<f64>(s).unwrap();
        assert_eq!((h.entries, a.nnz()), (4, 6));
        assert!(a.is_symmetric(false));
        assert_eq!(a.to_dense()[(1, 2)], -1.0);
        // Both (1, 2) and (2, 1) given: summed like duplicates, at both positions.
        let s2 = "%%MatrixMarket matrix coordinate real symmetric\n2 2 2\n2 1 3\n1 2 4\n";
        let d = read::<f64>(s2).unwrap().0.to_dense();
        assert_eq!((d[(0, 1)], d[(1, 0)]), (7.0, 7.0));
        // Skew-symmetric (an explicit zero diagonal is accepted and kept).
        let k =
            "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 3\n2 1 1.5\n3 1 -2\n3 3 0\n";
        let (a, _) = read::<f64>(k).unwrap();
        let d = a.to_dense();
        assert_eq!((d[(1, 0)], d[(0, 1)], d[(0, 2)]), (1.5, -1.5, 2.0));
        assert_eq!(a.nnz(), 5);
        // Hermitian.
        let z = "%%MatrixMarket matrix coordinate complex hermitian\n2 2 3\n1 1 2 0\n2 1 1 -3\n2 2 5 0\n";
        let (a, _) = read::<c64>(z).unwrap();
        assert!(a.is_symmetric(true));
        assert_eq!(a.to_dense()[(0, 1)], c64::new(1.0, 3.0));
        // Complex symmetric: mirrored without conjugation.
        let z = "%%MatrixMarket matrix coordinate complex symmetric\n2 2 1\n2 1 1 -3\n";
        let d = read::<c64>(z).unwrap().0.to_dense();
        assert_eq!(d[(0, 1)], c64::new(1.0, -3.0));
        // Real Hermitian (not in the standard) reads as symmetric.
        let r = "%%MatrixMarket matrix coordinate real hermitian\n2 2 1\n2 1 4\n";
        assert!(read::<f64>(r).unwrap().0.is_symmetric(false));
    }

    #[test]
    fn fields_pattern_integer_and_real_into_complex() {
        let p = "%%MatrixMarket matrix coordinate pattern symmetric\n3 3 3\n1 1\n3 1\n2 2\n";
        let (a, h) = read::<f64>(p).unwrap();
        assert_eq!(h.field, MmField::Pattern);
        assert_eq!(a.values(), &[1.0, 1.0, 1.0, 1.0]);
        let i = "%%MatrixMarket matrix coordinate integer general\n2 2 2\n1 1 -7\n2 2 123456789\n";
        let (a, _) = read::<f32>(i).unwrap();
        assert_eq!(a.values(), &[-7.0, 123456789.0]);
        let r = "%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 2.5\n";
        let (a, _) = read::<c32>(r).unwrap();
        assert_eq!(a.values(), &[c32::new(2.5, 0.0)]);
    }

    #[test]
    fn array_format() {
        // General, column-major; zeros dropped from the sparse matrix.
        let g = "%%MatrixMarket matrix array real general\n% c\n2 3\n1\n2\n0\n4\n5\n6\n";
        let (a, h) = read::<f64>(g).unwrap();
        assert_eq!((h.format, h.entries), (MmFormat::Array, 6));
        assert_eq!(a.nnz(), 5);
        let d = a.to_dense();
        assert_eq!((d[(1, 0)], d[(0, 1)], d[(1, 2)]), (2.0, 0.0, 6.0));
        // Symmetric: lower triangle by columns.
        let s = "%%MatrixMarket matrix array real symmetric\n3 3\n1\n2\n3\n4\n5\n6\n";
        let d = read::<f64>(s).unwrap().0.to_dense();
        assert_eq!(
            (d[(2, 0)], d[(0, 2)], d[(1, 1)], d[(2, 1)], d[(2, 2)]),
            (3.0, 3.0, 4.0, 5.0, 6.0)
        );
        // Skew: strictly lower.
        let k = "%%MatrixMarket matrix array real skew-symmetric\n3 3\n1\n2\n3\n";
        let (a, h) = read::<f64>(k).unwrap();
        assert_eq!(h.entries, 3);
        let d = a.to_dense();
        assert_eq!(
            (d[(1, 0)], d[(0, 1)], d[(2, 1)], d[(1, 2)], d[(0, 0)]),
            (1.0, -1.0, 3.0, -3.0, 0.0)
        );
        // Hermitian complex.
        let z = "%%MatrixMarket matrix array complex hermitian\n2 2\n1 0\n2 1\n3 0\n";
        let d = read::<c64>(z).unwrap().0.to_dense();
        assert_eq!(
            (d[(1, 0)], d[(0, 1)]),
            (c64::new(2.0, 1.0), c64::new(2.0, -1.0))
        );
        // Dense reader: keeps zeros, any format.
        let b = read_dense_matrix_market_from::<f64, _>(g.as_bytes()).unwrap();
        assert_eq!(
            (b.nrows(), b.ncols(), b[(0, 1)], b[(1, 1)]),
            (2, 3, 0.0, 4.0)
        );
        let c = "%%MatrixMarket matrix coordinate real general\n3 1 2\n3 1 7\n1 1 -1\n";
        let b = read_dense_matrix_market_from::<f64, _>(c.as_bytes()).unwrap();
        assert_eq!((b[(0, 0)], b[(1, 0)], b[(2, 0)]), (-1.0, 0.0, 7.0));
        // Empty matrices.
        let e = "%%MatrixMarket matrix array real general\n0 3\n";
        assert_eq!(
            read_dense_matrix_market_from::<f64, _>(e.as_bytes())
                .unwrap()
                .ncols(),
            3
        );
        let e = "%%MatrixMarket matrix coordinate real general\n0 0 0\n";
        assert_eq!(read::<f64>(e).unwrap().0.nnz(), 0);
    }

    #[test]
    fn malformed_files_report_their_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty"),
            ("hello world\n1 1 1\n", 1, "banner"),
            ("%%MatrixMarket matrix coordinate real\n1 1 0\n", 1, "words"),
            (
                "%%MatrixMarket vector coordinate real general\n1 1 0\n",
                1,
                "object",
            ),
            (
                "%%MatrixMarket matrix sparse real general\n1 1 0\n",
                1,
                "format",
            ),
            (
                "%%MatrixMarket matrix coordinate double general\n1 1 0\n",
                1,
                "field",
            ),
            (
                "%%MatrixMarket matrix coordinate real upper\n1 1 0\n",
                1,
                "symmetry",
            ),
            (
                "%%MatrixMarket matrix array pattern general\n1 1\n",
                1,
                "pattern",
            ),
            (
                "%%MatrixMarket matrix coordinate pattern skew-symmetric\n1 1 0\n",
                1,
                "pattern",
            ),
            (
                "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 2\n",
                1,
                "complex",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n% c\n",
                2,
                "size line",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n% c\n3 3\n",
                3,
                "size line",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 x 3\n",
                2,
                "size line",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n-3 3 1\n",
                2,
                "size line",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 1 4\n",
                2,
                "size line",
            ),
            (
                "%%MatrixMarket matrix array real general\n3 3 9\n",
                2,
                "size line",
            ),
            (
                "%%MatrixMarket matrix coordinate real symmetric\n3 4 1\n",
                2,
                "square",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1\n",
                3,
                "ends after 1 of the 2",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1\n\n% c\n",
                5,
                "ends after 1",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 1\n2 2 2\n",
                4,
                "too many entries",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 1\n4 1 1\n",
                3,
                "row index 4",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 0 1\n",
                3,
                "column index 0",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 -1 1\n",
                3,
                "column index '-1'",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 1\n1.5 1 1\n",
                3,
                "row index '1.5'",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 1 1\n2 2 abc\n",
                4,
                "'abc' is not a number",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1\n",
                3,
                "missing",
            ),
            (
                "%%MatrixMarket matrix coordinate real general\n3 3 1\n1 1 1 0\n",
                3,
                "too many fields",
            ),
            (
                "%%MatrixMarket matrix coordinate complex general\n3 3 1\n1 1 1\n",
                3,
                "missing",
            ),
            (
                "%%MatrixMarket matrix coordinate pattern general\n3 3 1\n1 1 1\n",
                3,
                "too many fields",
            ),
            (
                "%%MatrixMarket matrix coordinate integer general\n3 3 1\n1 1 2.5\n",
                3,
                "not an integer",
            ),
            (
                "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 1\n2 2 1\n",
                3,
                "must be zero",
            ),
            (
                "%%MatrixMarket matrix coordinate complex hermitian\n3 3 1\n2 2 1 1\n",
                3,
                "must be real",
            ),
            (
                "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n",
                5,
                "ends after 3 of the 4",
            ),
            (
                "%%MatrixMarket matrix array real general\n1 1\n1\n2\n",
                4,
                "too many entries",
            ),
            (
                "%%MatrixMarket matrix array complex general\n1 1\n1\n",
                3,
                "missing",
            ),
            (
                "%%MatrixMarket matrix array real symmetric\n2 2\n1\n2\n3\n4\n",
                6,
                "too many entries",
            ),
            (
                "%%MatrixMarket matrix array real general\n99999999999 99999999999\n",
                2,
                "too large",
            ),
        ];
        for &(text, line, needle) in cases {
            // Read as complex, except the complex-into-real case.
            let r = if needle == "complex" {
                read::<f64>(text).map(|_| ())
            } else {
                read::<c64>(text).map(|_| ())
            };
            match r {
                Err(Error::Parse { line: l, message }) => {
                    assert_eq!(l, line, "{text:?}: {message}");
                    assert!(
                        message.contains(needle),
                        "{text:?}: '{message}' lacks '{needle}'"
                    );
                }
                other => panic!("{text:?}: expected a parse error, got {other:?}"),
            }
            // The header reader and the dense reader fail too, never panic.
            assert!(
                read_dense_matrix_market_from::<c64, _>(text.as_bytes()).is_err()
                    || needle == "complex"
            );
            let _ = read_header_from(text.as_bytes());
        }
        // Not text.
        let mut bin = b"%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 ".to_vec();
        bin.extend_from_slice(&[0xff, 0xfe, b'\n']);
        assert!(matches!(
            read_matrix_market_from::<f64, _>(&bin[..]),
            Err(Error::Parse { line: 3, .. })
        ));
        // A declared size that cannot be allocated.
        let huge = format!(
            "%%MatrixMarket matrix coordinate real general\n1 {} 0\n",
            usize::MAX
        );
        assert!(matches!(read::<f64>(&huge), Err(Error::Parse { .. })));
        let huge = format!(
            "%%MatrixMarket matrix array real general\n{} 1\n",
            usize::MAX / 2
        );
        assert!(read_dense_matrix_market_from::<f64, _>(huge.as_bytes()).is_err());
    }

    #[test]
    fn broken_gzip_is_an_error() {
        let text = "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 1\n2 2 2\n";
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let (a, _) = read_matrix_market_from::<f64, _>(&gz[..]).unwrap();
        assert_eq!(a.nnz(), 2);
        assert_eq!(read_header_from(&gz[..]).unwrap().entries, 2);
        // Truncated and corrupted streams: errors, no panic.
        for cut in [3, 10, gz.len() / 2, gz.len() - 4] {
            assert!(
                read_matrix_market_from::<f64, _>(&gz[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut bad = gz.clone();
        for b in bad.iter_mut().skip(12).take(8) {
            *b ^= 0x5a;
        }
        assert!(read_matrix_market_from::<f64, _>(&bad[..]).is_err());
        assert!(read_matrix_market_from::<f64, _>(&[0x1f, 0x8b][..]).is_err());
    }

    #[test]
    fn round_trips_are_bitwise() {
        // Real general.
        let a = awkward();
        let s = write_string(&a, MmSymmetry::General);
        assert!(s.starts_with("%%MatrixMarket matrix coordinate real general\n"));
        let (b, h) = read::<f64>(&s).unwrap();
        assert_eq!(h.entries, a.nnz());
        assert_bitwise(&a, &b);
        // f32.
        let a32 = CscMatrix::<f32>::from_triplets(
            3,
            2,
            &[(0, 0, 0.1), (2, 1, -1.0 / 3.0), (1, 1, 3.4e38)],
        )
        .unwrap();
        assert_bitwise(
            &a32,
            &read::<f32>(&write_string(&a32, MmSymmetry::General))
                .unwrap()
                .0,
        );
        // Complex general.
        let z = CscMatrix::<c64>::from_triplets(
            3,
            3,
            &[
                (0, 0, c64::new(1.0 / 3.0, -0.1)),
                (2, 0, c64::new(0.0, 1e-310)),
                (1, 2, c64::new(-7.0, 2.0 / 3.0)),
            ],
        )
        .unwrap();
        let s = write_string(&z, MmSymmetry::General);
        assert!(s.starts_with("%%MatrixMarket matrix coordinate complex general\n"));
        assert_bitwise(&z, &read::<c64>(&s).unwrap().0);
        // Symmetric: lower triangle only.
        let l = gen::convection_diffusion_2d(4, 3, 0.0);
        let s = write_string(&l, MmSymmetry::Symmetric);
        let (b, h) = read::<f64>(&s).unwrap();
        assert_eq!(
            (h.symmetry, h.entries),
            (MmSymmetry::Symmetric, l.lower_triangle().nnz())
        );
        assert_bitwise(&l, &b);
        // Hermitian and complex symmetric.
        let hz = hermitian8();
        let s = write_string(&hz, MmSymmetry::Hermitian);
        assert!(s.starts_with("%%MatrixMarket matrix coordinate complex hermitian\n"));
        assert_bitwise(&hz, &read::<c64>(&s).unwrap().0);
        let sz = complex_symmetric8();
        assert_bitwise(
            &sz,
            &read::<c64>(&write_string(&sz, MmSymmetry::Symmetric))
                .unwrap()
                .0,
        );
        // Real matrix written as Hermitian: banner 'symmetric'.
        assert!(write_string(&l, MmSymmetry::Hermitian).contains("real symmetric"));
        // Skew-symmetric.
        let k = CscMatrix::<f64>::from_triplets(
            3,
            3,
            &[(1, 0, 0.5), (0, 1, -0.5), (2, 1, 3.0), (1, 2, -3.0)],
        )
        .unwrap();
        let s = write_string(&k, MmSymmetry::SkewSymmetric);
        let (b, h) = read::<f64>(&s).unwrap();
        assert_eq!(h.entries, 2);
        assert_bitwise(&k, &b);
        // Symmetry claims are checked.
        for sym in [
            MmSymmetry::Symmetric,
            MmSymmetry::Hermitian,
            MmSymmetry::SkewSymmetric,
        ] {
            let r = write_matrix_market_to(Vec::new(), &awkward(), sym);
            assert!(matches!(r, Err(Error::InvalidArgument { .. })));
        }
        assert!(write_matrix_market_to(Vec::new(), &sz, MmSymmetry::Hermitian).is_err());
        assert!(write_matrix_market_to(Vec::new(), &hz, MmSymmetry::Symmetric).is_err());
        assert!(write_matrix_market_to(Vec::new(), &l, MmSymmetry::SkewSymmetric).is_err());
        // Dense.
        let m = faer::Mat::<c64>::from_fn(4, 3, |i, j| c64::new(i as f64 / 3.0, -(j as f64) / 7.0));
        let mut out = Vec::new();
        write_dense_matrix_market_to(&mut out, m.as_ref()).unwrap();
        assert_eq!(
            read_dense_matrix_market_from::<c64, _>(&out[..]).unwrap(),
            m
        );
    }

    #[test]
    fn files_plain_and_gzip() {
        let a = gen::laplacian_2d(5, 4);
        for name in ["lap.mtx", "lap.mtx.gz"] {
            let p = tmp(name);
            write_matrix_market(&p, &a, MmSymmetry::Symmetric).unwrap();
            let bytes = std::fs::read(&p).unwrap();
            assert_eq!(bytes.starts_with(&[0x1f, 0x8b]), name.ends_with(".gz"));
            let (b, h) = read_matrix_market::<f64>(&p).unwrap();
            assert_eq!(read_header(&p).unwrap(), h);
            assert_bitwise(&a, &b);
            std::fs::remove_file(&p).unwrap();
        }
        // Gzip content under a name without .gz is still recognised.
        let p = tmp("hidden_gzip.mtx.gz");
        write_matrix_market(&p, &a, MmSymmetry::General).unwrap();
        let q = tmp("hidden_gzip.txt");
        std::fs::rename(&p, &q).unwrap();
        assert_bitwise(&a, &read_matrix_market::<f64>(&q).unwrap().0);
        std::fs::remove_file(&q).unwrap();
        // Dense files.
        let m = faer::Mat::<f64>::from_fn(5, 2, |i, j| (i * j) as f64 / 9.0);
        let p = tmp("rhs.mtx.gz");
        write_dense_matrix_market(&p, m.as_ref()).unwrap();
        assert_eq!(read_dense_matrix_market::<f64>(&p).unwrap(), m);
        std::fs::remove_file(&p).unwrap();
        // Missing file and bad file: the path is in the message.
        let missing = tmp("does_not_exist.mtx");
        match read_matrix_market::<f64>(&missing) {
            Err(Error::Io(m)) => assert!(m.contains("does_not_exist")),
            other => panic!("{other:?}"),
        }
        let p = tmp("bad.mtx");
        std::fs::write(
            &p,
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n",
        )
        .unwrap();
        match read_matrix_market::<f64>(&p) {
            Err(Error::Parse { line: 3, message }) => assert!(message.contains("bad.mtx")),
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(&p).unwrap();
        assert!(
            write_matrix_market(Path::new("/nonexistent_dir/x.mtx"), &a, MmSymmetry::General)
                .is_err()
        );
    }

    /// `../shared/matrices` (the developers' collection), when present.
    fn shared_matrices() -> Option<PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/matrices");
        p.join("MANIFEST.md").is_file().then_some(p)
    }

    #[test]
    fn shared_matrices_match_the_manifest() {
        let Some(dir) = shared_matrices() else {
            eprintln!("shared/matrices not found: skipped");
            return;
        };
        let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).unwrap();
        let cells = |l: &str| -> Vec<String> {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        };
        let mut rows = manifest.lines().filter(|l| l.trim_start().starts_with('|'));
        let head = cells(rows.next().expect("MANIFEST.md has no table"));
        let col = |name: &str| {
            head.iter()
                .position(|c| c == name)
                .unwrap_or_else(|| panic!("no column '{name}'"))
        };
        let (cf, cn, cz) = (col("file"), col("n"), col("nnz"));
        let mut seen = Vec::new();
        for row in rows {
            let c = cells(row);
            if c[0].starts_with("---") {
                continue;
            }
            let (file, n, nnz): (&str, usize, usize) =
                (&c[cf], c[cn].parse().unwrap(), c[cz].parse().unwrap());
            let (a, h) = read_matrix_market::<f64>(&dir.join(file))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!((a.nrows(), a.ncols(), h.nrows), (n, n, n), "{file}");
            assert_eq!(a.nnz(), nnz, "{file}");
            if h.symmetry == MmSymmetry::Symmetric {
                assert!(a.is_symmetric(false), "{file}");
            }
            seen.push(file.to_string());
        }
        // Every matrix file of the folder is in the manifest.
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| f.ends_with(".mtx") || f.ends_with(".mtx.gz"))
            .collect();
        files.sort();
        seen.sort();
        assert_eq!(files, seen);
        assert!(seen.len() >= 18);
    }

    // The project's own small matrices in `matrices/`; written by `write_project_matrices`.

    /// KKT saddle point `[[H, B^T], [B, 0]]`: H the 4 x 4-grid Laplacian (16), B 6 x 16 with
    /// rows `e_2r - e_(2r+1)` (full row rank). Symmetric indefinite, zero (2, 2) block.
    fn kkt() -> CscMatrix<f64> {
        let h = gen::laplacian_2d(4, 4);
        let mut t = Vec::new();
        for j in 0..16 {
            let (rows, vals) = h.col(j);
            t.extend(rows.iter().zip(vals).map(|(&i, &v)| (i, j, v)));
        }
        for r in 0..6 {
            for (c, v) in [(2 * r, 1.0), (2 * r + 1, -1.0)] {
                t.push((16 + r, c, v));
                t.push((c, 16 + r, v));
            }
        }
        CscMatrix::from_triplets(22, 22, &t).unwrap()
    }

    /// Hermitian positive definite, order 8: tridiagonal (4 on the diagonal, -1 + 0.5i below)
    /// plus a corner entry 0.25i at (8, 1).
    fn hermitian8() -> CscMatrix<c64> {
        let mut t = Vec::new();
        for i in 0..8 {
            t.push((i, i, c64::new(4.0, 0.0)));
            if i + 1 < 8 {
                t.push((i + 1, i, c64::new(-1.0, 0.5)));
                t.push((i, i + 1, c64::new(-1.0, -0.5)));
            }
        }
        t.push((7, 0, c64::new(0.0, 0.25)));
        t.push((0, 7, c64::new(0.0, -0.25)));
        CscMatrix::from_triplets(8, 8, &t).unwrap()
    }

    /// Complex symmetric (not Hermitian), order 8: a damped 1D Helmholtz operator,
    /// diagonal 1.5 + 0.1i, -1 next to it, 0.25 - 0.125i two away.
    fn complex_symmetric8() -> CscMatrix<c64> {
        let mut t = Vec::new();
        for i in 0..8 {
            t.push((i, i, c64::new(1.5, 0.1)));
            for (d, v) in [(1, c64::new(-1.0, 0.0)), (2, c64::new(0.25, -0.125))] {
                if i + d < 8 {
                    t.push((i + d, i, v));
                    t.push((i, i + d, v));
                }
            }
        }
        CscMatrix::from_triplets(8, 8, &t).unwrap()
    }

    fn project_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("matrices")
    }

    /// The real project matrices: (file, matrix, symmetry written).
    fn project_real() -> Vec<(&'static str, CscMatrix<f64>, MmSymmetry)> {
        vec![
            (
                "lap2d_10x10.mtx",
                gen::laplacian_2d(10, 10),
                MmSymmetry::Symmetric,
            ),
            (
                "convdiff2d_8x8_pe20.mtx",
                gen::convection_diffusion_2d(8, 8, 20.0),
                MmSymmetry::General,
            ),
            (
                "elasticity3d_2x1x1.mtx",
                gen::elasticity_3d(2, 1, 1),
                MmSymmetry::Symmetric,
            ),
            ("kkt_22.mtx", kkt(), MmSymmetry::Symmetric),
        ]
    }

    /// The complex project matrices.
    fn project_complex() -> Vec<(&'static str, CscMatrix<c64>, MmSymmetry)> {
        vec![
            ("hermitian_8.mtx", hermitian8(), MmSymmetry::Hermitian),
            (
                "complex_symmetric_8.mtx",
                complex_symmetric8(),
                MmSymmetry::Symmetric,
            ),
        ]
    }

    /// Regenerates `matrices/*.mtx`: `cargo test --release --lib sparse::mm -- --ignored`.
    #[test]
    #[ignore = "writes into the repository's matrices/ folder"]
    fn write_project_matrices() {
        for (f, a, s) in project_real() {
            write_matrix_market(&project_dir().join(f), &a, s).unwrap();
        }
        for (f, a, s) in project_complex() {
            write_matrix_market(&project_dir().join(f), &a, s).unwrap();
        }
    }

    #[test]
    fn project_matrices_match_their_definitions() {
        if !project_dir().join("lap2d_10x10.mtx").is_file() {
            eprintln!("matrices/ not found: skipped");
            return;
        }
        for (f, a, s) in project_real() {
            let (b, h) = read_matrix_market::<f64>(&project_dir().join(f)).unwrap();
            assert_eq!(h.symmetry, s, "{f}");
            assert_bitwise(&a, &b);
        }
        for (f, a, s) in project_complex() {
            let (b, h) = read_matrix_market::<c64>(&project_dir().join(f)).unwrap();
            assert_eq!(h.symmetry, s, "{f}");
            assert_bitwise(&a, &b);
        }
        // What the README says of them.
        let k = kkt();
        assert!(k.is_symmetric(false));
        assert!(
            k.to_dense().llt(faer::Side::Lower).is_err(),
            "KKT must be indefinite"
        );
        assert!(
            k.to_dense().as_ref().determinant().abs() > 0.0,
            "KKT must be nonsingular"
        );
        assert!(hermitian8().to_dense().llt(faer::Side::Lower).is_ok());
        assert!(!complex_symmetric8().is_symmetric(true));
        assert!(gen::elasticity_3d(2, 1, 1)
            .to_dense()
            .llt(faer::Side::Lower)
            .is_ok());
    }
}
