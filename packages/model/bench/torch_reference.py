# The PyTorch side of the model benchmark: the same Llama architecture written out in plain PyTorch (Torch 1.13
# has no scaled_dot_product_attention), training tokens/s and 64-stream greedy generation tokens/s with a KV cache.
# Run by bench-model.ts with OMP_WAIT_POLICY=passive; prints one JSON object.
import json
import resource
import sys
import time

import torch

settings = json.loads(sys.argv[1])
threads = settings['threads']
torch.set_num_threads(threads)
torch.manual_seed(0)
V, C, L, H, K, I = (settings[k] for k in ('vocab', 'hidden', 'layers', 'heads', 'kv_heads', 'intermediate'))
D = C // H
B, T = settings['batch'], settings['sequence']
streams, prompt_length, new_tokens = settings['streams'], settings['prompt'], settings['new_tokens']
budget = settings['seconds']
# 'cpu' (bench:cpu) or 'cuda' (bench:webgpu's reference on a GPU, float32 with TF32 off).
device = torch.device(settings.get('device', 'cpu'))
if device.type == 'cuda':
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def synchronize():
    if device.type == 'cuda':
        torch.cuda.synchronize()


def rms_norm(x, weight, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


class Layer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1 = torch.nn.Parameter(torch.ones(C))
        self.q = torch.nn.Linear(C, H * D, bias=False)
        self.k = torch.nn.Linear(C, K * D, bias=False)
        self.v = torch.nn.Linear(C, K * D, bias=False)
        self.o = torch.nn.Linear(H * D, C, bias=False)
        self.norm2 = torch.nn.Parameter(torch.ones(C))
        self.gate = torch.nn.Linear(C, I, bias=False)
        self.up = torch.nn.Linear(C, I, bias=False)
        self.down = torch.nn.Linear(I, C, bias=False)

    def forward(self, x, cos, sin, cache=None, offset=0):
        b, t, _ = x.shape
        h = rms_norm(x, self.norm1)
        q = self.q(h).view(b, t, H, D).transpose(1, 2)
        k = self.k(h).view(b, t, K, D).transpose(1, 2)
        v = self.v(h).view(b, t, K, D).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if cache is not None:
            cache[0][:, :, offset:offset + t] = k
            cache[1][:, :, offset:offset + t] = v
            k, v = cache[0][:, :, :offset + t], cache[1][:, :, :offset + t]
        k = k.repeat_interleave(H // K, dim=1)
        v = v.repeat_interleave(H // K, dim=1)
        scores = (q @ k.transpose(-1, -2)) / D ** 0.5
        s = k.shape[2]
        if t > 1:
            mask = torch.ones(t, s, dtype=torch.bool).tril(diagonal=s - t)
            scores = scores.masked_fill(~mask, float('-inf'))
        attention = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, H * D)
        x = x + self.o(attention)
        h = rms_norm(x, self.norm2)
        return x + self.down(torch.nn.functional.silu(self.gate(h)) * self.up(h))


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(V, C)
        self.layers = torch.nn.ModuleList(Layer() for _ in range(L))
        self.norm = torch.nn.Parameter(torch.ones(C))
        self.head = torch.nn.Linear(C, V, bias=False)
        inverse = 1.0 / (10000 ** (torch.arange(0, D, 2).float() / D))
        angles = torch.outer(torch.arange(1024).float(), inverse)
        emb = torch.cat((angles, angles), dim=-1)
        self.cos, self.sin = emb.cos().to(device), emb.sin().to(device)

    def forward(self, ids, caches=None, offset=0):
        t = ids.shape[1]
        cos, sin = self.cos[offset:offset + t], self.sin[offset:offset + t]
        x = self.embed(ids)
        for index, layer in enumerate(self.layers):
            x = layer(x, cos, sin, None if caches is None else caches[index], offset)
        return self.head(rms_norm(x, self.norm))


# Peak resident memory (KiB on Linux) of the process: at the start, and after the training steps.
start_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
model = Model().to(device)
if settings.get('tied'):
    # Tied embeddings (the world model): the output head is the embedding matrix.
    model.head.weight = model.embed.weight
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
ids = torch.randint(0, V, (B, T), device=device)


def train_step():
    logits = model(ids)
    loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def timed(step, minimum_steps):
    step()
    synchronize()
    start, steps = time.perf_counter(), 0
    while steps < minimum_steps or time.perf_counter() - start < budget:
        step()
        synchronize()
        steps += 1
    return steps, time.perf_counter() - start


train_steps, train_seconds = timed(train_step, 2)
training_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@torch.no_grad()
def generate():
    prompts = torch.randint(0, V, (streams, prompt_length), device=device)
    capacity = prompt_length + new_tokens
    caches = [(torch.zeros(streams, K, capacity, D, device=device), torch.zeros(streams, K, capacity, D, device=device)) for _ in range(L)]
    logits = model(prompts, caches, 0)
    token = logits[:, -1].argmax(-1, keepdim=True)
    for step in range(1, new_tokens):
        logits = model(token, caches, prompt_length + step - 1)
        token = logits[:, -1].argmax(-1, keepdim=True)


# streams 0 skips generation (the pretraining comparison times training only).
generate_steps, generate_seconds = timed(generate, 1) if streams > 0 else (0, 1.0)
print(json.dumps({
    'torch': torch.__version__,
    'threads': threads,
    'training_tokens_per_second': B * T * train_steps / train_seconds,
    'generation_tokens_per_second': streams * new_tokens * generate_steps / generate_seconds,
    'training_peak_mib': training_peak / 1024,
    'start_peak_mib': start_peak / 1024,
}))
