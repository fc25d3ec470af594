//! A JSON syntax checker that fails with the messages of Go's `encoding/json` scanner
//! (`invalid character 'o' in literal null (expecting 'u')`, `unexpected EOF`, ...).
//!
//! `decode` uses it to find the extent of the first JSON value of a request body (Go's
//! `json.Decoder` reads one value and ignores what follows) and to word syntax errors the way
//! the engine does. Depends on nothing else in the crate.

/// How much input the checker must accept, mirroring the two Go entry points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `json.NewDecoder(body).Decode(&v)`: the first value; anything after it is ignored.
    /// Running out of input inside the value is `unexpected EOF`.
    Stream,
    /// `json.Unmarshal(data, &v)`: exactly one value, optionally surrounded by whitespace.
    /// Running out of input is `unexpected end of JSON input`.
    Whole,
}

/// The outcome of a successful check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Extent {
    /// Only whitespace (Go's `io.EOF` for a decoder).
    Empty,
    /// The first value occupies `start..end`.
    Value { start: usize, end: usize },
}

/// Checks `input` and returns the extent of its (first) value, or Go's error text.
pub(crate) fn check(input: &[u8], mode: Mode) -> Result<Extent, String> {
    let mut s = Scanner {
        input,
        pos: 0,
        mode,
    };
    s.skip_space();
    if s.pos >= input.len() {
        return match mode {
            Mode::Stream => Ok(Extent::Empty),
            Mode::Whole => Err(s.eof()),
        };
    }
    let start = s.pos;
    s.value(0)?;
    let end = s.pos;
    if mode == Mode::Whole {
        s.skip_space();
        if let Some(c) = s.peek() {
            return Err(invalid(c, "after top-level value"));
        }
    }
    Ok(Extent::Value { start, end })
}

/// Go's limit on nesting depth.
const MAX_DEPTH: usize = 10_000;

struct Scanner<'a> {
    input: &'a [u8],
    pos: usize,
    mode: Mode,
}

/// Go's `quoteChar`: `'x'`, `'\''`, `'"'`, or an escaped form for the unprintable.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".to_owned(),
        b'"' => "'\"'".to_owned(),
        b'\n' => "'\\n'".to_owned(),
        b'\r' => "'\\r'".to_owned(),
        b'\t' => "'\\t'".to_owned(),
        0x07 => "'\\a'".to_owned(),
        0x08 => "'\\b'".to_owned(),
        0x0b => "'\\v'".to_owned(),
        0x0c => "'\\f'".to_owned(),
        0x20..=0x7e => format!("'{}'", char::from(c)),
        0x00..=0x1f | 0x7f => format!("'\\x{c:02x}'"),
        // Go turns the byte into the rune of the same value (Latin-1), printable from 0xa1.
        0x80..=0xa0 | 0xad => format!("'\\u{:04x}'", c),
        _ => format!("'{}'", char::from(c)),
    }
}

fn invalid(c: u8, context: &str) -> String {
    format!("invalid character {} {}", quote_char(c), context)
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn eof(&self) -> String {
        match self.mode {
            Mode::Stream => "unexpected EOF".to_owned(),
            Mode::Whole => "unexpected end of JSON input".to_owned(),
        }
    }

    /// The next byte, or the end-of-input error.
    fn next(&mut self) -> Result<u8, String> {
        match self.peek() {
            Some(c) => {
                self.pos += 1;
                Ok(c)
            }
            None => Err(self.eof()),
        }
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), String> {
        self.skip_space();
        let c = self.next()?;
        match c {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string(),
            b'-' => self.number(c),
            b'0'..=b'9' => self.number(c),
            b't' => self.literal("true"),
            b'f' => self.literal("false"),
            b'n' => self.literal("null"),
            _ => Err(invalid(c, "looking for beginning of value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("exceeded max depth".to_owned());
        }
        self.skip_space();
        let mut c = self.next()?;
        if c == b'}' {
            return Ok(());
        }
        loop {
            if c != b'"' {
                return Err(invalid(c, "looking for beginning of object key string"));
            }
            self.string()?;
            self.skip_space();
            let colon = self.next()?;
            if colon != b':' {
                return Err(invalid(colon, "after object key"));
            }
            self.value(depth)?;
            self.skip_space();
            match self.next()? {
                b',' => {
                    self.skip_space();
                    c = self.next()?;
                }
                b'}' => return Ok(()),
                other => return Err(invalid(other, "after object key:value pair")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("exceeded max depth".to_owned());
        }
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.value(depth)?;
            self.skip_space();
            match self.next()? {
                b',' => continue,
                b']' => return Ok(()),
                other => return Err(invalid(other, "after array element")),
            }
        }
    }

    /// After the opening quote.
    fn string(&mut self) -> Result<(), String> {
        loop {
            match self.next()? {
                b'"' => return Ok(()),
                b'\\' => {
                    let e = self.next()?;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            for _ in 0..4 {
                                let h = self.next()?;
                                if !h.is_ascii_hexdigit() {
                                    return Err(invalid(h, "in \\u hexadecimal character escape"));
                                }
                            }
                        }
                        _ => return Err(invalid(e, "in string escape code")),
                    }
                }
                c if c < 0x20 => return Err(invalid(c, "in string literal")),
                _ => {}
            }
        }
    }

    /// Consumes digits; at the end of input a number simply ends.
    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A digit is required next; `context` words the error.
    fn need_digit(&mut self, context: &str) -> Result<(), String> {
        let c = self.next()?;
        if c.is_ascii_digit() {
            Ok(())
        } else {
            Err(invalid(c, context))
        }
    }

    /// `first` is the already consumed `-` or digit.
    fn number(&mut self, first: u8) -> Result<(), String> {
        let lead = if first == b'-' {
            let c = self.next()?;
            if !c.is_ascii_digit() {
                return Err(invalid(c, "in numeric literal"));
            }
            c
        } else {
            first
        };
        if lead != b'0' {
            self.digits();
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.need_digit("after decimal point in numeric literal")?;
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.need_digit("in exponent of numeric literal")?;
            self.digits();
        }
        Ok(())
    }

    /// After the first letter of `word`.
    fn literal(&mut self, word: &str) -> Result<(), String> {
        for expected in word.bytes().skip(1) {
            let c = self.next()?;
            if c != expected {
                return Err(invalid(
                    c,
                    &format!("in literal {word} (expecting {})", quote_char(expected)),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_err(s: &str) -> String {
        check(s.as_bytes(), Mode::Stream).unwrap_err()
    }

    fn whole_err(s: &str) -> String {
        check(s.as_bytes(), Mode::Whole).unwrap_err()
    }

    #[test]
    fn go_messages() {
        assert_eq!(
            stream_err("notjson"),
            "invalid character 'o' in literal null (expecting 'u')"
        );
        assert_eq!(stream_err("{\"Name\": \"bad\", "), "unexpected EOF");
        assert_eq!(
            whole_err("{\"Name\": \"bad\", "),
            "unexpected end of JSON input"
        );
        assert_eq!(
            stream_err("x"),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(
            stream_err("{\"a\" 1}"),
            "invalid character '1' after object key"
        );
        assert_eq!(
            stream_err("{\"a\":1 \"b\":2}"),
            "invalid character '\"' after object key:value pair"
        );
        assert_eq!(
            stream_err("{a:1}"),
            "invalid character 'a' looking for beginning of object key string"
        );
        assert_eq!(
            stream_err("[1 2]"),
            "invalid character '2' after array element"
        );
        assert_eq!(
            stream_err("{\"a\":-x}"),
            "invalid character 'x' in numeric literal"
        );
        assert_eq!(
            stream_err("[1.]"),
            "invalid character ']' after decimal point in numeric literal"
        );
        assert_eq!(
            stream_err("\"a\\qb\""),
            "invalid character 'q' in string escape code"
        );
        assert_eq!(
            stream_err("\"a\nb\""),
            "invalid character '\\n' in string literal"
        );
        assert_eq!(
            stream_err("tru "),
            "invalid character ' ' in literal true (expecting 'e')"
        );
        assert_eq!(
            whole_err("{} x"),
            "invalid character 'x' after top-level value"
        );
    }

    #[test]
    fn stream_reads_only_the_first_value() {
        assert_eq!(
            check(b" {\"a\":[1,2]} trailing", Mode::Stream),
            Ok(Extent::Value { start: 1, end: 12 })
        );
        assert_eq!(
            check(b"123abc", Mode::Stream),
            Ok(Extent::Value { start: 0, end: 3 })
        );
        assert_eq!(check(b" \n ", Mode::Stream), Ok(Extent::Empty));
        assert_eq!(whole_err(""), "unexpected end of JSON input");
    }

    #[test]
    fn accepts_valid_documents() {
        for doc in [
            "{}",
            "[]",
            "0",
            "-0.5e+10",
            "\"\\u00e9\\n\"",
            "{\"a\":{\"b\":[true,false,null]},\"c\":\"d\"}",
        ] {
            assert!(check(doc.as_bytes(), Mode::Whole).is_ok(), "{doc}");
        }
    }
}
