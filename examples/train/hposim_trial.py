"""The hposim trial protocol (crates/runner/PROTOCOL.md) for Python training scripts.

    from hposim_trial import trial
    state = trial.load() or fresh_state()        # resume from the checkpoint, if any
    for step in trial.steps():                   # HPOSIM_START_STEP + 1 .. HPOSIM_UNTIL
        state = train_one_epoch(state, trial.config)
        trial.report(step, state, val_error=err)  # checkpoint, then one JSON line on stdout
"""
import json, os, pickle, time

class Trial:
    def __init__(self, env=os.environ):
        self.config = json.loads(env.get("HPOSIM_CONFIG", "{}"))
        self.start = int(env.get("HPOSIM_START_STEP", "0"))
        self.until = int(env.get("HPOSIM_UNTIL", "1"))
        self.seed = int(env.get("HPOSIM_SEED", "0"))
        self.path = os.path.join(env.get("HPOSIM_CHECKPOINT_DIR", "."), "state.pkl")
        self.saved = {}

    def load(self):
        """The state saved at step HPOSIM_START_STEP, or None (start afresh)."""
        if self.start == 0 or not os.path.exists(self.path):
            return None
        with open(self.path, "rb") as f:
            self.saved = pickle.load(f)
        return self.saved.get(self.start)

    def steps(self):
        # Each step's own time, from here to its report, goes out as `step_seconds`: hposim
        # tells a launch's start-up (or resume) from training with it.
        for step in range(self.start + 1, self.until + 1):
            self.step_start = time.perf_counter()
            yield step

    def report(self, step, state, **metrics):
        # Keep the last two states: a report whose line was lost to a kill is simply retrained.
        self.saved = {k: v for k, v in self.saved.items() if k >= step - 1}
        self.saved[step] = state
        tmp = self.path + ".tmp"
        with open(tmp, "wb") as f:
            pickle.dump(self.saved, f)
        os.replace(tmp, self.path)
        fields = {"step": step, **metrics}
        if getattr(self, "step_start", None) is not None:
            fields.setdefault("step_seconds", time.perf_counter() - self.step_start)
        print(json.dumps(fields), flush=True)

trial = Trial()
