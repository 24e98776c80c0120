// The reference's counting rules: words (NLTK's \w+ tokenizer), sentences (Punkt with the English model), NLTK's
// word_tokenize, Python's whitespace, case predicates and json.loads. Expected values were produced by the
// reference (NLTK 3.8 with the english.pickle model, CPython 3.11).
import { describe, expect, test } from 'bun:test';
import { countCapitalWords, countWords } from './instructions';
import { detectLanguage } from './language';
import { countSentences, punktSentences } from './punkt';
import { isPythonJson } from './python-json';
import { pyIsLower, pyIsUpper, pySplit, pyStrip } from './python-text';
import { wordTokenize } from './word-tokenize';

describe('words', () => {
  test('runs of letters, digits and underscores; apostrophes and hyphens split words', () => {
    expect(countWords("It's a well-known fact: 3.5 x_y")).toBe(9);
    expect(countWords('')).toBe(0);
    expect(countWords('café Straße ΑΘΗΝΑ')).toBe(3);
  });

  test('combining vowel signs are not word characters to Python, so they split Devanagari words', () => {
    expect(countWords('हिन्दी')).toBe(3);
  });
});

describe('sentences (Punkt, English model)', () => {
  test('known abbreviations do not end a sentence unless the next word starts one', () => {
    expect(punktSentences('Hello there Mr. Smith. How are you? I live in the U.S. The weather is fine.')).toEqual([
      'Hello there Mr. Smith.', 'How are you?', 'I live in the U.S.', 'The weather is fine.',
    ]);
    expect(countSentences('I served in the U.S. Army for years. It was fine.')).toBe(2);
  });

  test('e.g. is not in the English model, so it ends a sentence; an initial before a name does not', () => {
    expect(countSentences('Use a fruit, e.g. an apple.')).toBe(2);
    expect(countSentences('J. S. Bach was born. He died.')).toBe(2);
  });

  test('numbers before a lower-case word are not sentence ends; newlines alone do not split', () => {
    expect(countSentences('Version 3. the end')).toBe(1);
    expect(countSentences('1. First item\n2. second item\n3. Third.')).toBe(3);
    expect(countSentences('line one\nline two\nline three')).toBe(1);
  });

  test('runs of ! and ? end one sentence; closing brackets and quotes stay with it', () => {
    expect(punktSentences('What?! Really? Yes!!! I promise.')).toEqual(['What?!', 'Really?', 'Yes!!!', 'I promise.']);
    expect(punktSentences('(Sent1.) Sent2.')).toEqual(['(Sent1.)', 'Sent2.']);
    expect(punktSentences('He said "Hi." Then left.')).toEqual(['He said "Hi."', 'Then left.']);
  });

  test('empty and whitespace-only text has no sentence', () => {
    expect(countSentences('')).toBe(0);
    expect(countSentences(' \n ')).toBe(0);
  });
});

describe('word_tokenize', () => {
  test('contractions, final periods, quotes and brackets', () => {
    expect(wordTokenize("DON'T SHOUT, I'M HERE. U.S.A. IS BIG.")).toEqual([
      'DO', "N'T", 'SHOUT', ',', 'I', "'M", 'HERE', '.', 'U.S.A.', 'IS', 'BIG', '.',
    ]);
    expect(wordTokenize('"Cannot," she said (gonna).')).toEqual(['``', 'Can', 'not', ',', "''", 'she', 'said', '(', 'gon', 'na', ')', '.']);
  });

  test('capital words: tokens with a cased character and none lower-case', () => {
    expect(countCapitalWords('NASA and the ESA launched 2 rockets; I AM THRILLED!')).toBe(5);
    expect(countCapitalWords('**IMPORTANT** note')).toBe(1);
  });
});

describe('Python string behaviour', () => {
  test('strip and split use Python whitespace (\\x1c-\\x1f and \\x85 included, \\ufeff not)', () => {
    expect(pyStrip('\x1c\x85 a b \u3000')).toBe('a b');
    expect(pyStrip('\ufeffa')).toBe('\ufeffa');
    expect(pySplit(' a\u00a0b\tc ')).toEqual(['a', 'b', 'c']);
  });

  test('isupper / islower need a cased character and ignore the rest', () => {
    expect(pyIsUpper('HELLO, WORLD 42!')).toBe(true);
    expect(pyIsUpper('42!')).toBe(false);
    expect(pyIsUpper('HELLO ǅ')).toBe(false);
    expect(pyIsLower('hello, world 42!')).toBe(true);
    expect(pyIsLower('hello World')).toBe(false);
  });

  test('json.loads: NaN and Infinity are accepted, a BOM, trailing data or single quotes are not', () => {
    expect(isPythonJson(' {"a": [1, -2.5e3, true, null, NaN, -Infinity]} ')).toBe(true);
    expect(isPythonJson('"\\u00e9\\n"')).toBe(true);
    expect(isPythonJson('\ufeff{}')).toBe(false);
    expect(isPythonJson('{} {}')).toBe(false);
    expect(isPythonJson("{'a': 1}")).toBe(false);
    expect(isPythonJson('01')).toBe(false);
    expect(isPythonJson('"tab\there"')).toBe(false);
  });
});

describe('language identification (cld3-asm)', () => {
  const samples: Record<string, string> = {
    en: 'The weather was pleasant this morning, so we decided to walk to the market and buy some fresh vegetables for dinner.',
    es: 'El clima estaba agradable esta mañana, así que decidimos caminar al mercado y comprar verduras frescas para la cena.',
    he: 'מזג האוויר היה נעים הבוקר, אז החלטנו ללכת ברגל לשוק ולקנות ירקות טריים לארוחת הערב.',
    ne: 'आज बिहान मौसम धेरै राम्रो थियो, त्यसैले हामीले बजारसम्म हिँडेर जाने र बेलुकाको खानाको लागि केही ताजा तरकारी किन्ने निर्णय गर्यौं।',
    sw: 'Hali ya hewa ilikuwa nzuri asubuhi hii, kwa hivyo tuliamua kutembea hadi sokoni na kununua mboga mbichi kwa ajili ya chakula cha jioni.',
    ja: '今朝は天気が良かったので、市場まで歩いて夕食のための新鮮な野菜を買うことにしました。',
  };
  for (const [code, text] of Object.entries(samples)) {
    test(`identifies ${code} with langdetect's code`, async () => {
      expect(await detectLanguage(text)).toBe(code);
    });
  }

  test('a Korean answer quoting English terms is Korean (the language of most of the text)', async () => {
    const text = "<<API>>\n\nAPI는 응용 프로그램 인터페이스(Application Programming Interface)의 약자입니다. API는 프로그램들이 서로 "
      + "데이터를 주고받는 방법을 정의하며, '요청(request)'과 '응답(response)'의 형식을 정합니다. 개발자는 API를 사용하여 다른 "
      + "서비스의 기능을 손쉽게 활용하고, '인증(authentication)' 절차를 통해 안전하게 접근합니다. 이를 통해 소프트웨어는 더 "
      + '빠르게 만들어지고 유지보수도 쉬워집니다.';
    expect(await detectLanguage(text)).toBe('ko');
  });

  test('text without letters cannot be identified', async () => {
    expect(await detectLanguage('12345 !!! https://example.com')).toBeUndefined();
  });
});
