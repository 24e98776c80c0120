// Every instruction of the public list on a response that follows it and one that does not, then the finer points
// of the reference's semantics that are easy to get wrong.
import { describe, expect, test } from 'bun:test';
import { instructionIds, instructionRegistry, type InstructionArguments } from './instructions';

function check(id: string, args: InstructionArguments, response: string): Promise<boolean> {
  return Promise.resolve(instructionRegistry.get(id)!.check(response, args));
}

interface Case {
  id: string;
  args: InstructionArguments;
  passing: string;
  failing: string;
}

const cases: Case[] = [
  {
    id: 'keywords:existence', args: { keywords: ['harbour', 'Lantern'] },
    passing: 'The old HARBOUR was lit by a single lantern.', failing: 'The old harbour was dark.',
  },
  {
    id: 'keywords:frequency', args: { keyword: 'tea', frequency: 3, relation: 'at least' },
    passing: 'Tea at noon, tea at four, and TEA before bed.', failing: 'Tea at noon and tea at four.',
  },
  {
    id: 'keywords:forbidden_words', args: { forbidden_words: ['cat', 'dog'] },
    passing: 'Cats and dogs are everywhere, and a catalogue lists them.', failing: 'My Dog sleeps all day.',
  },
  {
    id: 'keywords:letter_frequency', args: { letter: 'z', let_frequency: 2, let_relation: 'less than' },
    passing: 'A lazy afternoon.', failing: 'Zebras zigzag.',
  },
  {
    id: 'language:response_language', args: { language: 'de' },
    passing: 'Heute Morgen war das Wetter angenehm, also sind wir zum Markt gegangen und haben frisches Gemüse gekauft.',
    failing: 'This morning the weather was pleasant, so we walked to the market and bought fresh vegetables.',
  },
  {
    id: 'length_constraints:number_sentences', args: { num_sentences: 3, relation: 'less than' },
    passing: 'Mr. Smith came home. He slept.', failing: 'One. Two. Three.',
  },
  {
    id: 'length_constraints:number_paragraphs', args: { num_paragraphs: 2 },
    passing: 'First paragraph here.\n***\nSecond paragraph here.', failing: 'First.\n***\n\n***\nSecond.',
  },
  {
    id: 'length_constraints:number_words', args: { num_words: 5, relation: 'at least' },
    passing: "It's a fine day, isn't it?", failing: 'Too short, sorry.',
  },
  {
    id: 'length_constraints:nth_paragraph_first_word', args: { num_paragraphs: 2, nth_paragraph: 2, first_word: 'however' },
    passing: 'The plan is simple.\n\n"However, it may fail.', failing: 'The plan is simple.\n\nBut it may fail.',
  },
  {
    id: 'detectable_content:number_placeholders', args: { num_placeholders: 2 },
    passing: 'Dear [name], we will meet at [address].', failing: 'Dear [name], see you soon.',
  },
  {
    id: 'detectable_content:postscript', args: { postscript_marker: 'P.S.' },
    passing: 'See you soon.\n\np.s. bring snacks', failing: 'See you soon. PS bring snacks',
  },
  {
    id: 'detectable_format:number_bullet_lists', args: { num_bullets: 2 },
    passing: 'Two points:\n* first\n- second', failing: 'Two points:\n* first\n**second**\n* third\n* fourth',
  },
  {
    id: 'detectable_format:constrained_response', args: {},
    passing: 'I thought about it. My answer is maybe.', failing: 'My answer is: yes.',
  },
  {
    id: 'detectable_format:number_highlighted_sections', args: { num_highlights: 2 },
    passing: 'An *important* point and a **bold claim**.', failing: 'An *important* point and an empty ** one.',
  },
  {
    id: 'detectable_format:multiple_sections', args: { section_spliter: 'SECTION', num_sections: 2 },
    passing: 'SECTION 1\nIntro.\nSECTION 2\nBody.', failing: 'SECTION 1\nIntro.\nSection 2\nBody.',
  },
  {
    id: 'detectable_format:json_format', args: {},
    passing: '```JSON\n{"sky": "blue", "sure": true}\n```', failing: 'Here it is: {"sky": "blue"}',
  },
  {
    id: 'detectable_format:title', args: {},
    passing: '<<Ode to Rain>>\nIt falls and falls.', failing: '<< >>\nIt falls and falls.',
  },
  {
    id: 'combination:two_responses', args: {},
    passing: 'Blue is calm.\n******\nRed is loud.', failing: 'Blue is calm.\n******\nBlue is calm.',
  },
  {
    id: 'combination:repeat_prompt', args: { prompt_to_repeat: 'Write a limerick about a frog.' },
    passing: 'write a LIMERICK about a frog. There once was a frog...', failing: 'Sure! Write a limerick about a frog.',
  },
  {
    id: 'startend:end_checker', args: { end_phrase: 'Any other questions?' },
    passing: 'That is all.\nany other questions?"  ', failing: 'That is all. Any other questions? Thanks.',
  },
  {
    id: 'change_case:capital_word_frequency', args: { capital_frequency: 3, capital_relation: 'at least' },
    passing: "This is VERY important: DON'T forget.", failing: 'This is VERY important: do not forget.',
  },
  {
    id: 'change_case:english_capital', args: {},
    passing: 'THE WEATHER IS LOVELY TODAY AND WE ARE GOING TO THE PARK WITH OUR FRIENDS.',
    failing: 'THE WEATHER IS LOVELY TODAY AND WE ARE GOING TO THE PARK WITH OUR FRIENDs.',
  },
  {
    id: 'change_case:english_lowercase', args: {},
    passing: 'the weather is lovely today and we are going to the park with our friends.',
    failing: 'the weather is lovely today and we are going to the park with our friends, Anna.',
  },
  { id: 'punctuation:no_comma', args: {}, passing: 'No commas here; none at all.', failing: 'One, two.' },
  { id: 'startend:quotation', args: {}, passing: '  "Quoted from start to end."\n', failing: '"Quoted" but not at the end.' },
];

describe('every instruction of the public list', () => {
  test('the registry holds exactly the 25 ids of the reference registry', () => {
    expect(instructionIds.length).toBe(25);
    expect([...instructionIds].sort()).toEqual(cases.map((entry) => entry.id).sort());
  });

  for (const { id, args, passing, failing } of cases) {
    test(`${id}: a response that follows it passes, one that does not fails`, async () => {
      expect(await check(id, args, passing)).toBe(true);
      expect(await check(id, args, failing)).toBe(false);
    });
  }
});

describe('relations', () => {
  test('"less than" is strict and "at least" includes the threshold', async () => {
    const text = 'one two three';
    expect(await check('length_constraints:number_words', { num_words: 3, relation: 'less than' }, text)).toBe(false);
    expect(await check('length_constraints:number_words', { num_words: 4, relation: 'less than' }, text)).toBe(true);
    expect(await check('length_constraints:number_words', { num_words: 3, relation: 'at least' }, text)).toBe(true);
    expect(await check('length_constraints:number_words', { num_words: 4, relation: 'at least' }, text)).toBe(false);
    expect(await check('keywords:letter_frequency', { letter: 'e', let_frequency: 3, let_relation: 'at least' }, 'EeE')).toBe(true);
  });
});

describe('keywords', () => {
  test('existence and frequency match case-insensitively inside words; forbidden words need word boundaries', async () => {
    expect(await check('keywords:existence', { keywords: ['art'] }, 'A PARTY.')).toBe(true);
    expect(await check('keywords:frequency', { keyword: 'an', frequency: 2, relation: 'at least' }, 'An ant.')).toBe(true);
    expect(await check('keywords:forbidden_words', { forbidden_words: ['art'] }, 'A party.')).toBe(true);
    expect(await check('keywords:forbidden_words', { forbidden_words: ['café'] }, 'Le CAFÉ!')).toBe(false);
    expect(await check('keywords:forbidden_words', { forbidden_words: ['café'] }, 'cafés')).toBe(true);
  });

  test('keywords are matched literally', async () => {
    expect(await check('keywords:existence', { keywords: ['a.b'] }, 'axb')).toBe(false);
    expect(await check('keywords:existence', { keywords: ['a.b'] }, 'see a.b')).toBe(true);
  });
});

describe('detectable format and content', () => {
  test('bullets: "*" or "-" at a line start (after any whitespace), not "**"', async () => {
    const bullets = (n: number, text: string) => check('detectable_format:number_bullet_lists', { num_bullets: n }, text);
    expect(await bullets(3, '  * one\n\t- two\n---')).toBe(true);
    expect(await bullets(0, '**Bold** line\nNo bullets -here')).toBe(true);
    expect(await bullets(1, 'text * not a bullet')).toBe(false);
  });

  test('highlights: *x* and **x** count, empty ones and ones across a newline do not', async () => {
    const highlights = (n: number, text: string) => check('detectable_format:number_highlighted_sections', { num_highlights: n }, text);
    expect(await highlights(1, '**bold**')).toBe(true);
    expect(await highlights(2, '**bold**')).toBe(false);
    expect(await highlights(1, '* *\n*across\nlines*')).toBe(false);
  });

  test('sections: the splitter and a number, case-sensitive', async () => {
    const sections = (n: number, text: string) => check('detectable_format:multiple_sections', { section_spliter: 'Section', num_sections: n }, text);
    expect(await sections(3, 'Section 1 a Section 2 b Section 3 c')).toBe(true);
    expect(await sections(1, 'SECTION 1 a')).toBe(false);
    expect(await sections(1, 'Section one')).toBe(false);
  });

  test('paragraphs divided by ***: empty ones at either end are dropped, one in the middle fails', async () => {
    const paragraphs = (n: number, text: string) => check('length_constraints:number_paragraphs', { num_paragraphs: n }, text);
    expect(await paragraphs(2, '***\nA\n***\nB\n***')).toBe(true);
    expect(await paragraphs(1, 'A')).toBe(true);
    expect(await paragraphs(3, 'A *** *** B')).toBe(false);
  });

  test('nth paragraph: split on blank lines, count must match, first word stripped of quotes and punctuation', async () => {
    const nth = (text: string) => check('length_constraints:nth_paragraph_first_word', { num_paragraphs: 3, nth_paragraph: 1, first_word: 'dear' }, text);
    expect(await nth("'Dear, friend.\n\nSecond.\n\nThird.")).toBe(true);
    expect(await nth('Dear friend.\n\nSecond.')).toBe(false);
    expect(await nth('Dearest friend.\n\nSecond.\n\nThird.')).toBe(false);
  });

  test('JSON: fences stripped; Python json.loads accepts NaN and Infinity but not trailing commas', async () => {
    const json = (text: string) => check('detectable_format:json_format', {}, text);
    expect(await json('```json\n{"a": NaN, "b": -Infinity}\n```')).toBe(true);
    expect(await json('```\n[1, 2]\n```')).toBe(true);
    expect(await json('  "just a string"  ')).toBe(true);
    expect(await json('[1, 2,]')).toBe(false);
    expect(await json("{'a': 1}")).toBe(false);
  });

  test('placeholders: square brackets on one line', async () => {
    expect(await check('detectable_content:number_placeholders', { num_placeholders: 1 }, '[\n]')).toBe(false);
    expect(await check('detectable_content:number_placeholders', { num_placeholders: 1 }, '[]')).toBe(true);
  });

  test('postscript markers: P.P.S with optional spaces, and any other marker as given, case-insensitively', async () => {
    expect(await check('detectable_content:postscript', { postscript_marker: 'P.P.S' }, 'Bye.\nP. P. S. one more thing')).toBe(true);
    expect(await check('detectable_content:postscript', { postscript_marker: 'P.P.S' }, 'Bye.\nP.S. one more thing')).toBe(false);
    expect(await check('detectable_content:postscript', { postscript_marker: 'Note:' }, 'Bye.\nNOTE: later')).toBe(true);
  });

  test('title: <<...>> on one line with something inside', async () => {
    expect(await check('detectable_format:title', {}, '<<a\nb>>')).toBe(false);
    expect(await check('detectable_format:title', {}, 'x <<<Title>>> y')).toBe(true);
  });
});

describe('combination, start and end', () => {
  test('two responses: empty parts only at the ends, and the two must differ', async () => {
    expect(await check('combination:two_responses', {}, '******\nA\n******\nB\n******')).toBe(true);
    expect(await check('combination:two_responses', {}, 'A\n******\n\n******\nB')).toBe(false);
    expect(await check('combination:two_responses', {}, 'A\n******\nB\n******\nC')).toBe(false);
  });

  test('quotation needs more than one character', async () => {
    expect(await check('startend:quotation', {}, '"')).toBe(false);
    expect(await check('startend:quotation', {}, '""')).toBe(true);
  });
});

describe('change case', () => {
  test('capital words are counted on NLTK word tokens (contractions split, hyphenated words whole)', async () => {
    const capitals = (n: number, text: string) => check('change_case:capital_word_frequency', { capital_frequency: n, capital_relation: 'less than' }, text);
    expect(await capitals(3, "DON'T")).toBe(true); // DO, N'T
    expect(await capitals(2, "DON'T")).toBe(false);
    expect(await capitals(2, 'WELL-KNOWN 5G')).toBe(false); // WELL-KNOWN, 5G
  });

  test('a response with no letters to identify counts as English, as langdetect\'s exception does', async () => {
    expect(await check('language:response_language', { language: 'fr' }, '12345 !!!')).toBe(true);
  });
});
