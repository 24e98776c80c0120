# The TRL side of bench-selfplay.ts: TRL's GRPOTrainer doing the GRPO iterations grpo-iteration.ts does (same
# model shapes, prompts, completion lengths, loss and optimizer), timed by phase. Called as
#   python trl_reference.py '<settings json>'   (with OMP_WAIT_POLICY=passive, OMP_NUM_THREADS=<threads>)
# and prints one JSON line on stdout; everything else goes to stderr. Exits non-zero with a one-line error.
#
# Phases of one iteration (one GRPOTrainer optimizer step), measured without changing what TRL computes:
#   seconds     on_step_begin .. on_step_end of a TrainerCallback (the whole step: generate, score, train)
#   generation  the policy's generate() call (sampling the completions)
#   reference   TRL's per-token log-prob pass when it is given the reference model
#   training    the end of _prepare_inputs .. on_step_end: the policy forward with grad and the loss, backward,
#               gradient clipping, the AdamW step, zero_grad
#   other       the rest: tokenizing, decoding, rewards, advantages, TRL's bookkeeping
# TRL skips the no-grad "old" policy log-prob pass when num_iterations == 1 and
# gradient_accumulation_steps % steps_per_generation == 0 (its old_per_token_logps is then per_token_logps.detach());
# the script checks that pass never runs.
import json
import os
import sys
import tempfile
import time


def prompt_ids(settings, prompt):
    """The prompt ids grpo-iteration.ts uses: the Park-Miller generator, exact in both languages' numbers."""
    state = (settings['seed'] * 7919 + prompt * 104729) % 2147483646 + 1
    ids = []
    for _ in range(settings['prompt_tokens']):
        state = state * 48271 % 2147483647
        ids.append(state % settings['vocab'])
    return ids


def even_share(ids):
    """The reward both sides use: the share of even token ids in the completion."""
    return sum(1 for i in ids if i % 2 == 0) / len(ids) if ids else 0.0


def run(settings):
    os.environ.setdefault('HF_HUB_OFFLINE', '1')
    os.environ.setdefault('HF_HUB_DISABLE_TELEMETRY', '1')
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
    import warnings
    warnings.filterwarnings('ignore')

    import torch
    import transformers
    import trl
    from datasets import Dataset
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    threads = settings['threads']
    torch.set_num_threads(threads)
    V, P, A = settings['vocab'], settings['prompts'], settings['answers']
    prompt_tokens, completion_tokens = settings['prompt_tokens'], settings['completion_tokens']

    # Tokenizer: one word per id, "t0".."t{V-1}", split on whitespace. No post-processor, so nothing (no BOS) is
    # added: a prompt of prompt_tokens words tokenizes to exactly prompt_tokens ids (checked below and at generate).
    # eos "t0" never ends a completion: min_new_tokens masks it until max_new_tokens is reached. pad "t1". Special
    # tokens are matched in the raw text before splitting, so they are whole-word only ("t1" must not split "t17");
    # the unknown-word token is not special (no unknown words occur).
    vocab = {f't{i}': i for i in range(V)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token='t2'))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    special = lambda word: AddedToken(word, single_word=True, special=True)  # noqa: E731
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token=special('t0'), pad_token=special('t1'))
    if tokenizer(' '.join(vocab))['input_ids'] != list(range(V)):
        raise RuntimeError('the tokenizer does not map every word tN to id N')

    prompts = [prompt_ids(settings, p) for p in range(P)]
    if len({tuple(ids) for ids in prompts}) != P:
        raise RuntimeError('prompt ids are not distinct')
    texts = [' '.join(f't{i}' for i in ids) for ids in prompts]
    for text, ids in zip(texts, prompts):
        if tokenizer(text)['input_ids'] != ids:
            raise RuntimeError(f'the tokenizer does not give back the {prompt_tokens} prompt ids')
    dataset = Dataset.from_dict({'prompt': texts})

    with tempfile.TemporaryDirectory(prefix='lsp-trl-reference-') as directory:
        # TRL builds its reference model by loading the policy's path again, so the random model is written out
        # and both are loaded from it (float32, identical weights).
        config = LlamaConfig(
            vocab_size=V, hidden_size=settings['hidden'], intermediate_size=settings['intermediate'],
            num_hidden_layers=settings['layers'], num_attention_heads=settings['heads'],
            num_key_value_heads=settings['kv_heads'], max_position_embeddings=settings['max_positions'],
            tie_word_embeddings=True, bos_token_id=None, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id, architectures=['LlamaForCausalLM'],
        )
        torch.manual_seed(settings['seed'])
        model_directory = os.path.join(directory, 'model')
        LlamaForCausalLM(config).to(torch.float32).save_pretrained(model_directory)

        # TRL defaults changed, and why: beta (0.0 = no reference model), loss_type ("dapo" -> "grpo", the
        # per-sequence token mean LSP uses), bf16 and gradient_checkpointing (on by default; float32 and no
        # recomputation like LSP), lr_scheduler_type ("linear" decay -> "constant", the given rate every step),
        # max_completion_length plus min_new_tokens (exactly completion_tokens tokens). Kept: scale_rewards "group",
        # num_iterations 1, epsilon 0.2, max_grad_norm 1, weight_decay 0, AdamW (torch, fused), disable_dropout
        # False (the model has no dropout), shuffle_dataset. Logging, saving, progress bars and reports are off.
        args = GRPOConfig(
            output_dir=os.path.join(directory, 'out'), use_cpu=True, bf16=False, fp16=False,
            gradient_checkpointing=False, seed=settings['seed'], data_seed=settings['seed'],
            per_device_train_batch_size=P * A,  # counts completions: P prompts x A answers in one step
            gradient_accumulation_steps=1, steps_per_generation=1, num_generations=A, num_iterations=1,
            max_steps=settings['iterations'] + 1, learning_rate=settings['learning_rate'],
            lr_scheduler_type='constant', beta=settings['beta'], loss_type='grpo',
            max_completion_length=completion_tokens, generation_kwargs={'min_new_tokens': completion_tokens},
            temperature=settings['temperature'], top_p=1.0, top_k=0, min_p=None, repetition_penalty=1.0,
            report_to='none', save_strategy='no', logging_strategy='no', disable_tqdm=True,
            dataloader_num_workers=0, log_completions=False,
        )

        clock = {'generation': 0.0, 'reference': 0.0, 'prepared': None, 'begin': None, 'old_passes': 0,
                 'generate_calls': 0}
        steps = []
        lengths = []

        def reward_even_share(prompts, completions, completion_ids, **kwargs):
            return [even_share(ids) for ids in completion_ids]

        class PhaseClock(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                clock.update(generation=0.0, reference=0.0, prepared=None, generate_calls=0)
                clock['begin'] = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                end = time.perf_counter()
                if clock['prepared'] is None or clock['generate_calls'] != 1:
                    raise RuntimeError(f"step {state.global_step}: expected one generation, got {clock['generate_calls']}")
                seconds = end - clock['begin']
                training = end - clock['prepared']
                other = seconds - clock['generation'] - clock['reference'] - training
                steps.append({'seconds': seconds, 'generation': clock['generation'], 'reference': clock['reference'],
                              'training': training, 'other': other})

        trainer = GRPOTrainer(
            model=model_directory, reward_funcs=reward_even_share, args=args, train_dataset=dataset,
            processing_class=tokenizer, callbacks=[PhaseClock()],
        )
        if trainer.ref_model is None:
            raise RuntimeError('TRL made no reference model')
        policy = trainer.accelerator.unwrap_model(trainer.model)

        original_generate = policy.generate

        def timed_generate(*a, **kw):
            input_ids = kw['input_ids']
            if tuple(input_ids.shape) != (P * A, prompt_tokens) or not bool(kw['attention_mask'].all()):
                raise RuntimeError(f'generate got prompts of shape {tuple(input_ids.shape)} with padding')
            if len({tuple(row) for row in input_ids.tolist()}) != P:
                raise RuntimeError('a generation batch does not hold every prompt')
            start = time.perf_counter()
            output = original_generate(*a, **kw)
            clock['generation'] += time.perf_counter() - start
            clock['generate_calls'] += 1
            return output

        policy.generate = timed_generate

        original_logps = trainer._get_per_token_logps_and_entropies

        def timed_logps(model, *a, **kw):
            if model is trainer.ref_model:
                start = time.perf_counter()
                result = original_logps(model, *a, **kw)
                clock['reference'] += time.perf_counter() - start
                return result
            if not torch.is_grad_enabled():
                clock['old_passes'] += 1  # the policy's no-grad "old" log-probs: must not happen here
            return original_logps(model, *a, **kw)

        trainer._get_per_token_logps_and_entropies = timed_logps

        original_prepare = trainer._prepare_inputs

        def timed_prepare(*a, **kw):
            inputs = original_prepare(*a, **kw)
            clock['prepared'] = time.perf_counter()
            return inputs

        trainer._prepare_inputs = timed_prepare

        original_compute_loss = trainer.compute_loss

        def checked_compute_loss(model, inputs, *a, **kw):
            # Counts the completion mask the loss uses; the first step is the unreported warm-up.
            if 'old_per_token_logps' in inputs or 'ref_per_token_logps' not in inputs:
                raise RuntimeError('unexpected inputs to the loss (old log-probs present or reference missing)')
            if len(steps) >= 1:
                lengths.extend(inputs['completion_mask'].sum(-1).tolist())
            return original_compute_loss(model, inputs, *a, **kw)

        trainer.compute_loss = checked_compute_loss

        trainer.train()

    if clock['old_passes']:
        raise RuntimeError(f"TRL ran {clock['old_passes']} no-grad policy log-prob passes")
    if len(steps) != settings['iterations'] + 1:
        raise RuntimeError(f"{len(steps)} steps ran, expected {settings['iterations'] + 1}")
    measured = steps[1:]
    if len(lengths) != settings['iterations'] * P * A:
        raise RuntimeError(f'{len(lengths)} completions counted, expected {settings["iterations"] * P * A}')
    shortest, longest = int(min(lengths)), int(max(lengths))
    if (shortest, longest) != (completion_tokens, completion_tokens):
        raise RuntimeError(f'completions of {shortest}-{longest} tokens, expected exactly {completion_tokens}')
    for step in measured:
        if step['other'] < -1e-3:
            raise RuntimeError(f'phases add up to more than the step: {step}')
    return {
        'trl': trl.__version__, 'torch': torch.__version__, 'transformers': transformers.__version__,
        'threads': torch.get_num_threads(), 'attention': policy.config._attn_implementation,
        'parameters': sum(p.numel() for p in policy.parameters()),
        'iterations': measured, 'completion_lengths': [shortest, longest],
    }


def main():
    # Everything but the result goes to stderr: fd 1 points at stderr until the JSON line is written.
    stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        if len(sys.argv) != 2:
            raise ValueError("usage: trl_reference.py '<settings json>'")
        result = run(json.loads(sys.argv[1]))
    except BaseException as error:  # noqa: BLE001 - one line, whatever failed
        sys.stdout.flush()
        message = ' '.join(str(error).split()) or type(error).__name__
        print(f'trl_reference: {type(error).__name__}: {message}', file=sys.stderr, flush=True)
        sys.exit(1)
    sys.stdout.flush()
    os.dup2(stdout, 1)
    os.close(stdout)
    print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
