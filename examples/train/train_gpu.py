"""A PyTorch training script for hposim's GPU validation (experiments/validate-gpu.toml).

An MLP on a generated 10-class problem (scikit-learn's make_classification, 60 000 samples,
no download), trained on the GPU one epoch per step with AdamW; validation error reported after
each epoch. Model and optimizer state are checkpointed through hposim_trial, so a paused trial
resumes where it stopped. Deterministic given HPOSIM_SEED up to cuBLAS's reduction order.
"""
import os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hposim_trial import trial
import torch
from sklearn.datasets import make_classification

c = trial.config
device = "cuda" if torch.cuda.is_available() else "cpu"
x, y = make_classification(n_samples=60000, n_features=128, n_informative=64, n_classes=10, n_clusters_per_class=2,
                           class_sep=0.8, random_state=0)
x = torch.tensor(x, dtype=torch.float32, device=device)
y = torch.tensor(y, dtype=torch.long, device=device)
x_train, y_train, x_val, y_val = x[:50000], y[:50000], x[50000:], y[50000:]
torch.manual_seed(trial.seed % 2**31)
width, depth = int(c["width"]), int(c["depth"])
layers, inputs = [], 128
for _ in range(depth):
    layers += [torch.nn.Linear(inputs, width), torch.nn.ReLU(), torch.nn.Dropout(float(c["dropout"]))]
    inputs = width
model = torch.nn.Sequential(*layers, torch.nn.Linear(inputs, 10)).to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=float(c["learning_rate"]), weight_decay=float(c["weight_decay"]))
state = trial.load()
if state is not None:
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
batch = int(c["batch_size"])
for step in trial.steps():
    start = time.perf_counter()
    model.train()
    generator = torch.Generator(device=device).manual_seed(trial.seed % 2**31 + step)
    order = torch.randperm(len(x_train), device=device, generator=generator)
    for i in range(0, len(order), batch):
        index = order[i:i + batch]
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x_train[index]), y_train[index])
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        error = (model(x_val).argmax(1) != y_val).float().mean().item()
    state = {"model": {k: v.cpu() for k, v in model.state_dict().items()}, "optimizer": optimizer.state_dict()}
    trial.report(step, state, val_error=error, train_loss=loss.item(), train_seconds=time.perf_counter() - start)
