// Language identification for `language:response_language` and the English checks of `change_case:*`. The
// reference calls langdetect (a port of Nakatani Shuyo's language-detection); here Google's CLD3 neural model
// runs through cld3-asm (WebAssembly, no native build), which identifies all 30 languages of IFEval's list.
// As in the reference, a text in which nothing can be identified (no letters once links and e-mail addresses
// are removed: langdetect's "No features in text") counts as following the instruction.
import { loadModule, type LanguageIdentifier } from 'cld3-asm';

/** The ISO 639-1 codes IFEval's response_language instruction may ask for, with their names. */
export const ifevalLanguages: Readonly<Record<string, string>> = {
  en: 'English', es: 'Spanish', pt: 'Portuguese', ar: 'Arabic', hi: 'Hindi', fr: 'French', ru: 'Russian',
  de: 'German', ja: 'Japanese', it: 'Italian', bn: 'Bengali', uk: 'Ukrainian', th: 'Thai', ur: 'Urdu',
  ta: 'Tamil', te: 'Telugu', bg: 'Bulgarian', ko: 'Korean', pl: 'Polish', he: 'Hebrew', fa: 'Persian',
  vi: 'Vietnamese', ne: 'Nepali', sw: 'Swahili', kn: 'Kannada', mr: 'Marathi', gu: 'Gujarati', pa: 'Punjabi',
  ml: 'Malayalam', fi: 'Finnish',
};

/** CLD3 codes that langdetect spells differently. */
const cld3ToLangdetect: Readonly<Record<string, string>> = { iw: 'he', fil: 'tl', jw: 'jv' };

/** langdetect reads at most 10,000 characters; CLD3 is given as many bytes. */
const maxBytes = 10_000;

let identifier: Promise<LanguageIdentifier> | undefined;

function languageIdentifier(): Promise<LanguageIdentifier> {
  identifier ??= loadModule().then((factory) => factory.create(0, maxBytes));
  return identifier;
}

const links = /(?:https?:\/\/|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+/gu;
const letter = /\p{L}/u;

/**
 * The language of `text` as an ISO 639-1 code (langdetect's spelling), or undefined when nothing can be identified
 * (the reference's LangDetectException, which it counts as the instruction followed).
 */
export async function detectLanguage(text: string): Promise<string | undefined> {
  if (!letter.test(text.replace(links, ' '))) return undefined;
  const identifier = await languageIdentifier();
  // The language of the largest share of the text: CLD3 identifies each run of one script on its own, so a
  // Korean answer quoting a few English terms is Korean (findLanguage on the whole text can answer Hindi).
  const shares = identifier.findMostFrequentLanguages(text, 3)
    .filter((result) => Boolean(result.language) && result.language !== 'und')
    .sort((a, b) => b.proportion - a.proportion);
  const language: string = shares[0]?.language ?? identifier.findLanguage(text).language;
  if (!language || language === 'und') return undefined;
  return cld3ToLangdetect[language] ?? language;
}

/** Whether `text` is in `language`, counting an unidentifiable text as a match, as the reference does. */
export async function isInLanguage(text: string, language: string): Promise<boolean> {
  const detected = await detectLanguage(text);
  return detected === undefined || detected === language;
}
