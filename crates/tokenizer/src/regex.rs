// A small backtracking regex engine for Split patterns other than the hand-written scanners (GPT-4o-style files,
// and any file's own regexes): Oniguruma's leftmost-first semantics over alternation, groups, (?i:...) on literals,
// classes with \p{..} general categories, \s \d \w, greedy and lazy quantifiers and lookahead. Anything else is
// refused with the reason, so a pattern either splits exactly as Hugging Face's Oniguruma does or is not loaded.
use crate::unicode::{decode_at, is_white_space};
use crate::unicode_tables::{CASE_FOLDING, CATEGORY_RANGES};

/// General category indexes, as generated (0 is unassigned).
pub(crate) const LU: u32 = 1;
pub(crate) const LL: u32 = 2;
pub(crate) const LT: u32 = 3;
pub(crate) const LM: u32 = 4;
pub(crate) const LO: u32 = 5;
pub(crate) const MN: u32 = 6;
pub(crate) const MC: u32 = 7;
pub(crate) const ME: u32 = 8;
pub(crate) const ND: u32 = 9;
pub(crate) const NL: u32 = 10;
pub(crate) const NO: u32 = 11;
pub(crate) const PC: u32 = 12;
pub(crate) const PD: u32 = 13;
pub(crate) const PS: u32 = 14;
pub(crate) const PE: u32 = 15;
pub(crate) const PI: u32 = 16;
pub(crate) const PF: u32 = 17;
pub(crate) const PO: u32 = 18;
pub(crate) const SM: u32 = 19;
pub(crate) const SC: u32 = 20;
pub(crate) const SK: u32 = 21;
pub(crate) const SO: u32 = 22;
pub(crate) const ZS: u32 = 23;
pub(crate) const ZL: u32 = 24;
pub(crate) const ZP: u32 = 25;
pub(crate) const CC: u32 = 26;
pub(crate) const CF: u32 = 27;
pub(crate) const CS: u32 = 28;
pub(crate) const CO: u32 = 29;
pub(crate) const CN: u32 = 0;

fn bits(categories: &[u32]) -> u32 {
    categories.iter().fold(0, |mask, &category| mask | (1 << category))
}

fn category_mask(name: &str) -> Option<u32> {
    Some(match name {
        "L" | "Letter" => bits(&[LU, LL, LT, LM, LO]),
        "Lu" => bits(&[LU]),
        "Ll" => bits(&[LL]),
        "Lt" => bits(&[LT]),
        "Lm" => bits(&[LM]),
        "Lo" => bits(&[LO]),
        "M" | "Mark" => bits(&[MN, MC, ME]),
        "Mn" => bits(&[MN]),
        "Mc" => bits(&[MC]),
        "Me" => bits(&[ME]),
        "N" | "Number" => bits(&[ND, NL, NO]),
        "Nd" => bits(&[ND]),
        "Nl" => bits(&[NL]),
        "No" => bits(&[NO]),
        "P" | "Punctuation" => bits(&[PC, PD, PS, PE, PI, PF, PO]),
        "Pc" => bits(&[PC]),
        "Pd" => bits(&[PD]),
        "Ps" => bits(&[PS]),
        "Pe" => bits(&[PE]),
        "Pi" => bits(&[PI]),
        "Pf" => bits(&[PF]),
        "Po" => bits(&[PO]),
        "S" | "Symbol" => bits(&[SM, SC, SK, SO]),
        "Sm" => bits(&[SM]),
        "Sc" => bits(&[SC]),
        "Sk" => bits(&[SK]),
        "So" => bits(&[SO]),
        "Z" | "Separator" => bits(&[ZS, ZL, ZP]),
        "Zs" => bits(&[ZS]),
        "Zl" => bits(&[ZL]),
        "Zp" => bits(&[ZP]),
        "C" | "Other" => bits(&[CC, CF, CS, CO, CN]),
        "Cc" => bits(&[CC]),
        "Cf" => bits(&[CF]),
        "Cs" => bits(&[CS]),
        "Co" => bits(&[CO]),
        "Cn" => bits(&[CN]),
        _ => return None,
    })
}

static mut CATEGORY_BMP: [u8; 0x10000] = [0; 0x10000];
static mut CATEGORY_READY: bool = false;

pub(crate) fn init_categories() {
    unsafe {
        if CATEGORY_READY {
            return;
        }
        for &(first, last, category) in CATEGORY_RANGES.iter() {
            if first >= 0x10000 {
                break;
            }
            for code in first..=last.min(0xFFFF) {
                CATEGORY_BMP[code as usize] = category;
            }
        }
        CATEGORY_READY = true;
    }
}

pub(crate) fn category(code: u32) -> u32 {
    if code < 0x10000 {
        return unsafe { CATEGORY_BMP[code as usize] } as u32;
    }
    match CATEGORY_RANGES.binary_search_by(|&(first, last, _)| {
        if last < code {
            std::cmp::Ordering::Less
        } else if first > code {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    }) {
        Ok(index) => CATEGORY_RANGES[index].2 as u32,
        Err(_) => CN,
    }
}

fn fold(code: u32) -> u32 {
    match CASE_FOLDING.binary_search_by_key(&code, |&(from, _)| from) {
        Ok(index) => CASE_FOLDING[index].1,
        Err(_) => code,
    }
}

/// Every character whose simple case folding equals that of `code` (code itself included).
fn case_variants(code: u32) -> Vec<u32> {
    let folded = fold(code);
    let mut variants = vec![folded];
    for &(from, to) in CASE_FOLDING.iter() {
        if to == folded && !variants.contains(&from) {
            variants.push(from);
        }
    }
    if !variants.contains(&code) {
        variants.push(code);
    }
    variants
}

#[derive(Clone)]
enum Item {
    Range(u32, u32),
    Categories(u32, bool),
    Space(bool),
}

#[derive(Clone)]
struct Set {
    negated: bool,
    items: Vec<Item>,
}

impl Set {
    fn matches(&self, code: u32) -> bool {
        let found = self.items.iter().any(|item| match *item {
            Item::Range(first, last) => code >= first && code <= last,
            Item::Categories(mask, negated) => ((mask >> category(code)) & 1 == 1) != negated,
            Item::Space(negated) => is_white_space(code) != negated,
        });
        found != self.negated
    }
}

enum Node {
    Char(u32),
    Set(Set),
    Any,
    Concat(Vec<Node>),
    Alternation(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
        greedy: bool,
    },
    Look {
        node: Box<Node>,
        negative: bool,
    },
}

struct Parser<'a> {
    chars: Vec<char>,
    position: usize,
    source: &'a str,
}

type ParseResult<T> = Result<T, String>;

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.position).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.position + offset).copied()
    }

    fn next(&mut self) -> ParseResult<char> {
        let character = self
            .peek()
            .ok_or_else(|| format!("pattern ends inside a construct: {}", self.source))?;
        self.position += 1;
        Ok(character)
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.position += 1;
            true
        } else {
            false
        }
    }

    fn alternation(&mut self, ignore_case: bool) -> ParseResult<Node> {
        let mut branches = vec![self.concatenation(ignore_case)?];
        while self.eat('|') {
            branches.push(self.concatenation(ignore_case)?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap()
        } else {
            Node::Alternation(branches)
        })
    }

    fn concatenation(&mut self, ignore_case: bool) -> ParseResult<Node> {
        let mut nodes = Vec::new();
        while let Some(character) = self.peek() {
            if character == '|' || character == ')' {
                break;
            }
            let atom = self.atom(ignore_case)?;
            nodes.push(self.quantified(atom)?);
        }
        Ok(Node::Concat(nodes))
    }

    fn number(&mut self) -> Option<u32> {
        let start = self.position;
        while matches!(self.peek(), Some('0'..='9')) {
            self.position += 1;
        }
        if start == self.position {
            return None;
        }
        self.chars[start..self.position].iter().collect::<String>().parse().ok()
    }

    fn quantified(&mut self, atom: Node) -> ParseResult<Node> {
        let (min, max) = match self.peek() {
            Some('?') => (0, Some(1)),
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('{') => {
                let saved = self.position;
                self.position += 1;
                let min = match self.number() {
                    Some(min) => min,
                    None => {
                        // Oniguruma reads a `{` that starts no valid interval as a literal.
                        self.position = saved;
                        return Ok(atom);
                    }
                };
                let max = if self.eat(',') { self.number() } else { Some(min) };
                if !self.eat('}') {
                    self.position = saved;
                    return Ok(atom);
                }
                self.position -= 1;
                (min, max)
            }
            _ => return Ok(atom),
        };
        self.position += 1;
        let greedy = !self.eat('?');
        if self.peek() == Some('+') {
            return Err("possessive quantifiers".to_string());
        }
        if let Some(max) = max {
            if max < min {
                return Err(format!("the interval {{{},{}}}", min, max));
            }
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
            greedy,
        })
    }

    fn literal(&self, code: u32, ignore_case: bool) -> Node {
        if ignore_case {
            let variants = case_variants(code);
            if variants.len() > 1 {
                return Node::Set(Set {
                    negated: false,
                    items: variants
                        .into_iter()
                        .map(|variant| Item::Range(variant, variant))
                        .collect(),
                });
            }
        }
        Node::Char(code)
    }

    fn atom(&mut self, ignore_case: bool) -> ParseResult<Node> {
        let character = self.next()?;
        match character {
            '(' => {
                let node = if self.eat('?') {
                    match self.next()? {
                        ':' => self.alternation(ignore_case)?,
                        '=' => Node::Look {
                            node: Box::new(self.alternation(ignore_case)?),
                            negative: false,
                        },
                        '!' => Node::Look {
                            node: Box::new(self.alternation(ignore_case)?),
                            negative: true,
                        },
                        'i' if self.eat(':') => self.alternation(true)?,
                        other => return Err(format!("the group (?{}", other)),
                    }
                } else {
                    self.alternation(ignore_case)?
                };
                if !self.eat(')') {
                    return Err("an unclosed group".to_string());
                }
                Ok(node)
            }
            '[' => {
                if ignore_case {
                    return Err("character classes inside (?i:...)".to_string());
                }
                Ok(Node::Set(self.class()?))
            }
            '.' => Ok(Node::Any),
            '\\' => match self.escape(false)? {
                Escaped::Char(code) => Ok(self.literal(code, ignore_case)),
                Escaped::Item(item) => Ok(Node::Set(Set {
                    negated: false,
                    items: vec![item],
                })),
            },
            '^' | '$' => Err(format!("the anchor {}", character)),
            other => Ok(self.literal(other as u32, ignore_case)),
        }
    }

    fn class(&mut self) -> ParseResult<Set> {
        let negated = self.eat('^');
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let character = self.next()?;
            if character == ']' && !first {
                break;
            }
            first = false;
            if character == '[' {
                return Err("nested character classes".to_string());
            }
            if character == '&' && self.peek() == Some('&') {
                return Err("class intersection".to_string());
            }
            let start = if character == '\\' {
                match self.escape(true)? {
                    Escaped::Char(code) => code,
                    Escaped::Item(item) => {
                        items.push(item);
                        continue;
                    }
                }
            } else {
                character as u32
            };
            if self.peek() == Some('-') && self.peek_at(1).map_or(false, |next| next != ']') {
                self.position += 1;
                let end_character = self.next()?;
                let end = if end_character == '\\' {
                    match self.escape(true)? {
                        Escaped::Char(code) => code,
                        Escaped::Item(_) => return Err("a range ending in a class escape".to_string()),
                    }
                } else {
                    end_character as u32
                };
                if end < start {
                    return Err("a reversed range".to_string());
                }
                items.push(Item::Range(start, end));
            } else {
                items.push(Item::Range(start, start));
            }
        }
        Ok(Set { negated, items })
    }

    fn hex(&mut self, digits: usize) -> ParseResult<u32> {
        let mut value = 0u32;
        for _ in 0..digits {
            let digit = self
                .next()?
                .to_digit(16)
                .ok_or_else(|| "a malformed hexadecimal escape".to_string())?;
            value = value * 16 + digit;
        }
        Ok(value)
    }

    fn escape(&mut self, in_class: bool) -> ParseResult<Escaped> {
        let character = self.next()?;
        Ok(match character {
            's' => Escaped::Item(Item::Space(false)),
            'S' => Escaped::Item(Item::Space(true)),
            // Oniguruma's Unicode \w: Letter, Mark, Number and Connector_Punctuation.
            'w' => Escaped::Item(Item::Categories(
                bits(&[LU, LL, LT, LM, LO, MN, MC, ME, ND, NL, NO, PC]),
                false,
            )),
            'W' => Escaped::Item(Item::Categories(
                bits(&[LU, LL, LT, LM, LO, MN, MC, ME, ND, NL, NO, PC]),
                true,
            )),
            'd' => Escaped::Item(Item::Categories(bits(&[ND]), false)),
            'D' => Escaped::Item(Item::Categories(bits(&[ND]), true)),
            'p' | 'P' => {
                let mut negated = character == 'P';
                let name: String = if self.eat('{') {
                    if self.eat('^') {
                        negated = !negated;
                    }
                    let mut name = String::new();
                    loop {
                        let next = self.next()?;
                        if next == '}' {
                            break;
                        }
                        name.push(next);
                    }
                    name
                } else {
                    self.next()?.to_string()
                };
                let mask = category_mask(&name).ok_or_else(|| format!("the property \\p{{{}}}", name))?;
                Escaped::Item(Item::Categories(mask, negated))
            }
            'n' => Escaped::Char(0x0A),
            'r' => Escaped::Char(0x0D),
            't' => Escaped::Char(0x09),
            'f' => Escaped::Char(0x0C),
            'v' => Escaped::Char(0x0B),
            'a' => Escaped::Char(0x07),
            'e' => Escaped::Char(0x1B),
            'x' => {
                if self.eat('{') {
                    let mut value = 0u32;
                    loop {
                        let next = self.next()?;
                        if next == '}' {
                            break;
                        }
                        value = value * 16
                            + next
                                .to_digit(16)
                                .ok_or_else(|| "a malformed \\x{..} escape".to_string())?;
                    }
                    Escaped::Char(value)
                } else {
                    Escaped::Char(self.hex(2)?)
                }
            }
            'u' => Escaped::Char(self.hex(4)?),
            'b' | 'B' | 'A' | 'z' | 'Z' | 'G' | 'h' | 'H' | 'k' | 'K' | 'R' | 'X' | 'N' | 'O' => {
                return Err(format!("the escape \\{}", character))
            }
            '0'..='9' => return Err(format!("the escape \\{}", character)),
            other if other.is_ascii_alphabetic() && !in_class => return Err(format!("the escape \\{}", other)),
            other => Escaped::Char(other as u32),
        })
    }
}

enum Escaped {
    Char(u32),
    Item(Item),
}

enum Instruction {
    Char(u32),
    Set(usize),
    Any,
    /// Try the first target, and on failure the second.
    Split(usize, usize),
    Jump(usize),
    /// Run the lookahead program that follows (it ends in Match); continue at `end` if it matched != negative.
    Look {
        negative: bool,
        end: usize,
    },
    Match,
}

pub struct Regex {
    program: Vec<Instruction>,
    sets: Vec<Set>,
}

struct Compiler {
    program: Vec<Instruction>,
    sets: Vec<Set>,
}

impl Compiler {
    fn emit(&mut self, instruction: Instruction) -> usize {
        self.program.push(instruction);
        self.program.len() - 1
    }

    fn compile(&mut self, node: &Node) {
        match node {
            Node::Char(code) => {
                self.emit(Instruction::Char(*code));
            }
            Node::Set(set) => {
                self.sets.push(set.clone());
                let index = self.sets.len() - 1;
                self.emit(Instruction::Set(index));
            }
            Node::Any => {
                self.emit(Instruction::Any);
            }
            Node::Concat(nodes) => {
                for node in nodes {
                    self.compile(node);
                }
            }
            Node::Alternation(branches) => {
                let mut jumps = Vec::new();
                for (index, branch) in branches.iter().enumerate() {
                    if index + 1 < branches.len() {
                        let split = self.emit(Instruction::Split(0, 0));
                        self.compile(branch);
                        jumps.push(self.emit(Instruction::Jump(0)));
                        let next = self.program.len();
                        self.program[split] = Instruction::Split(split + 1, next);
                    } else {
                        self.compile(branch);
                    }
                }
                let end = self.program.len();
                for jump in jumps {
                    self.program[jump] = Instruction::Jump(end);
                }
            }
            Node::Repeat { node, min, max, greedy } => {
                for _ in 0..*min {
                    self.compile(node);
                }
                match max {
                    None => {
                        let split = self.emit(Instruction::Split(0, 0));
                        self.compile(node);
                        self.emit(Instruction::Jump(split));
                        let end = self.program.len();
                        self.program[split] = if *greedy {
                            Instruction::Split(split + 1, end)
                        } else {
                            Instruction::Split(end, split + 1)
                        };
                    }
                    Some(max) => {
                        let mut splits = Vec::new();
                        for _ in *min..*max {
                            splits.push(self.emit(Instruction::Split(0, 0)));
                            self.compile(node);
                        }
                        let end = self.program.len();
                        for split in splits {
                            self.program[split] = if *greedy {
                                Instruction::Split(split + 1, end)
                            } else {
                                Instruction::Split(end, split + 1)
                            };
                        }
                    }
                }
            }
            Node::Look { node, negative } => {
                let look = self.emit(Instruction::Look {
                    negative: *negative,
                    end: 0,
                });
                self.compile(node);
                self.emit(Instruction::Match);
                let end = self.program.len();
                self.program[look] = Instruction::Look {
                    negative: *negative,
                    end,
                };
            }
        }
    }
}

/// Whether a node can match without consuming input (a repeated one would loop forever here).
fn can_be_empty(node: &Node) -> bool {
    match node {
        Node::Char(_) | Node::Set(_) | Node::Any => false,
        Node::Concat(nodes) => nodes.iter().all(can_be_empty),
        Node::Alternation(branches) => branches.iter().any(can_be_empty),
        Node::Repeat { node, min, .. } => *min == 0 || can_be_empty(node),
        Node::Look { .. } => true,
    }
}

fn check_repeats(node: &Node) -> ParseResult<()> {
    match node {
        Node::Concat(nodes) | Node::Alternation(nodes) => nodes.iter().try_for_each(check_repeats),
        Node::Repeat { node, max, .. } => {
            if max.is_none() && can_be_empty(node) {
                return Err("an unbounded repeat of something that can match nothing".to_string());
            }
            check_repeats(node)
        }
        Node::Look { node, .. } => check_repeats(node),
        _ => Ok(()),
    }
}

impl Regex {
    /// Compiles `source`, or says which construct is not supported.
    pub fn new(source: &str) -> Result<Regex, String> {
        init_categories();
        let mut parser = Parser {
            chars: source.chars().collect(),
            position: 0,
            source,
        };
        let node = parser.alternation(false)?;
        if parser.position != parser.chars.len() {
            return Err("an unmatched )".to_string());
        }
        check_repeats(&node)?;
        let mut compiler = Compiler {
            program: Vec::new(),
            sets: Vec::new(),
        };
        compiler.compile(&node);
        compiler.emit(Instruction::Match);
        Ok(Regex {
            program: compiler.program,
            sets: compiler.sets,
        })
    }

    /// The end of the leftmost-first match starting exactly at `start`, running the program from `entry`.
    fn run(&self, bytes: &[u8], entry: usize, start: usize, stack: &mut Vec<(usize, usize)>) -> Option<usize> {
        let base = stack.len();
        stack.push((entry, start));
        while stack.len() > base {
            let (mut pc, mut position) = stack.pop().unwrap();
            loop {
                match self.program[pc] {
                    Instruction::Char(code) => {
                        if position < bytes.len() {
                            let (found, length) = decode_at(bytes, position);
                            if found == code {
                                position += length;
                                pc += 1;
                                continue;
                            }
                        }
                        break;
                    }
                    Instruction::Set(index) => {
                        if position < bytes.len() {
                            let (found, length) = decode_at(bytes, position);
                            if self.sets[index].matches(found) {
                                position += length;
                                pc += 1;
                                continue;
                            }
                        }
                        break;
                    }
                    Instruction::Any => {
                        if position < bytes.len() && bytes[position] != b'\n' {
                            position += decode_at(bytes, position).1;
                            pc += 1;
                            continue;
                        }
                        break;
                    }
                    Instruction::Split(first, second) => {
                        stack.push((second, position));
                        pc = first;
                    }
                    Instruction::Jump(target) => pc = target,
                    Instruction::Look { negative, end } => {
                        let matched = self.run(bytes, pc + 1, position, stack).is_some();
                        if matched == negative {
                            break;
                        }
                        pc = end;
                    }
                    Instruction::Match => {
                        stack.truncate(base);
                        return Some(position);
                    }
                }
            }
        }
        None
    }

    /// Every match, left to right, as the onig crate's find_iter gives them (an empty match right after the
    /// previous match is skipped).
    pub fn find_iter(&self, text: &str, mut each: impl FnMut(usize, usize)) {
        let bytes = text.as_bytes();
        let mut stack = Vec::with_capacity(64);
        let mut search = 0usize;
        let mut last_match_end: Option<usize> = None;
        while search <= bytes.len() {
            let mut found = None;
            let mut start = search;
            loop {
                if let Some(end) = self.run(bytes, 0, start, &mut stack) {
                    found = Some((start, end));
                    break;
                }
                if start >= bytes.len() {
                    break;
                }
                start += decode_at(bytes, start).1;
            }
            let (start, end) = match found {
                Some(found) => found,
                None => return,
            };
            if start == end && last_match_end == Some(end) {
                if search >= bytes.len() {
                    return;
                }
                search += decode_at(bytes, search).1;
                continue;
            }
            each(start, end);
            last_match_end = Some(end);
            search = if end == start && end >= bytes.len() {
                bytes.len() + 1
            } else {
                end
            };
        }
    }

    /// Every match replaced by `content`, as Hugging Face's Replace normalizer and decoder do with a regex.
    pub fn replace_all(&self, text: &str, content: &str) -> String {
        let mut result = String::with_capacity(text.len());
        let mut previous = 0;
        self.find_iter(text, |start, end| {
            result.push_str(&text[previous..start]);
            result.push_str(content);
            previous = end;
        });
        result.push_str(&text[previous..]);
        result
    }
}
