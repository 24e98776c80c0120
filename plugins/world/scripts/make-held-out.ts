// Writes src/world-held-out.json: the world's fixed held-out set, perLevel distinct tasks at every level, from a
// fixed seed. Run once; the file is committed so the set never moves under later changes to the generator.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateTasks } from '../src/world-generator';
import type { HeldOutSet } from '../src/world-held-out';
import { worldLimits } from '../src/world-task';

const seed = 20250909;
const perLevel = 40;
const set: HeldOutSet = { seed, perLevel, items: [] };
for (let level = 1; level <= worldLimits.maxLevel; level++) {
  generateTasks({ seed: seed + level, count: perLevel, levels: [level] }).forEach((task, index) => {
    set.items.push({
      id: `L${level}-${String(index + 1).padStart(2, '0')}`,
      prompt: task.canonical,
      answer: task.answer,
      level: task.level,
      difficulty: task.difficulty,
    });
  });
}
const path = join(import.meta.dir, '..', 'src', 'world-held-out.json');
writeFileSync(path, `${JSON.stringify({ seed: set.seed, perLevel: set.perLevel, items: [] }, null, 2).replace('"items": []', `"items": [\n${set.items.map((item) => `    ${JSON.stringify(item)}`).join(',\n')}\n  ]`)}\n`);
console.log(`wrote ${set.items.length} items to ${path}`);
