#!/usr/bin/env python3
"""The independent integer model behind the expected amounts of
src/testing/whole_task.rs: DESIGN.md's formulas written out with floors, sharing no code with
the contract. Run it with `python3 whole_task_model.py`; its output is the test's expectations."""
ONE = 10**18
def mul_floor(x, dec_atomics): return x * dec_atomics // ONE
def pct(p): return p * ONE // 100
gamma, q, eps = pct(10), pct(50), pct(50)
liveness, outlier = pct(10), pct(20)
tau, obound = 20_000, 100_000
def qpow(rank):
    # Decimal::pow by squaring with floor at each product
    result = ONE; base = q; e = rank
    while e > 0:
        if e & 1: result = result * base // ONE
        base = base * base // ONE
        e >>= 1
    return result

START = 1_000_000
own = {f"t{i}": 1000 for i in range(5)}; own.update({f"v{i}": 1000 for i in range(7)})
own["t2"] += 1000; own["v3"] += 1000
unb = {k: 0 for k in own}
deleg = {("d0","v0"): 1000, ("d1","t0"): 2000, ("d2","v1"): 600, ("d2","t1"): 400}
commission = {k: 0 for k in own}; commission["v0"] = pct(10); commission["t0"] = pct(5)
index = {k: 0 for k in own}  # reward index atomics
reserve = {k: 0 for k in own}
dindex = {k: 0 for k in deleg}; dpending = {k: 0 for k in deleg}
rewards = {}
pool = 30_000
slashed_total = 0
def delegated(op): return sum(a for (d,o),a in deleg.items() if o==op)
def eff(op): return own[op] + mul_floor(delegated(op), eps) if own[op] >= 100 else 0
def sumT(): return sum(eff(k) for k in own if k[0]=="t")
def sumS(): return sum(eff(k) for k in own if k[0]=="v")
def credit(k, amt):
    rewards[k] = rewards.get(k, 0) + amt
def credit_op(op, amt):
    if amt == 0: return
    D = delegated(op); e = mul_floor(D, eps)
    due = amt * e // (own[op] + e) if own[op] + e > 0 else 0
    dels = mul_floor(due, ONE - commission[op])
    credit(op, amt - dels)
    if dels > 0:
        index[op] += dels * ONE // D
        reserve[op] += dels
def settle(key):
    d, o = key
    dpending[key] += deleg[key] * (index[o] - dindex[key]) // ONE
    dindex[key] = index[o]
def slash(v, share):
    global pool, slashed_total
    amt = mul_floor(own[v] + unb[v], share)
    fo = min(amt, own[v]); own[v] -= fo; unb[v] -= amt - fo
    pool += amt; slashed_total += amt
    return amt

def play(round_no, rounds_left, subs, reveals):
    """subs: list of (trainer, true score); reveals[v] = function(sub_index, score)->score or None"""
    global pool
    vals = [f"v{i}" for i in range(7)]
    snap = {v: eff(v) for v in vals}   # assignment snapshot (all assigned, k=7)
    tstake = {t: eff(t) for t, _ in subs}  # at submission
    E = pool // rounds_left; pool -= E
    T, S = sumT(), sumS()
    g = gamma
    rv = E * (g*(T+S) + (ONE - 2*g)*S) // (ONE*(T+S))
    rt = E - rv
    vweight = {}
    ranking = []
    for i, (t, true) in enumerate(subs):
        revs = {}
        for v in vals:
            s = reveals(v, i, true)
            if s is None: slash(v, liveness)
            else: revs[v] = s
        rw = sum(snap[v] for v in revs); aw = sum(snap.values())
        if rw * ONE >= aw * pct(50):
            srt = sorted(revs.items(), key=lambda kv: kv[1])  # ties by address don't change C
            below = 0; C = None
            for v, s in srt:
                below += snap[v]
                if 2*below >= rw: C = s; break
            for v, s in revs.items():
                dist = abs(s - C)
                if dist <= tau: vweight[v] = vweight.get(v, 0) + snap[v]
                elif dist > obound: slash(v, outlier)
            ranking.append((-C, i, t))
    ranking.sort()
    weights = [(t, mul_floor(tstake[t], qpow(r))) for r, (_, i, t) in enumerate(ranking)]
    W = sum(w for _, w in weights)
    paid = 0
    for t, w in weights:
        amt = rt * w // W; credit_op(t, amt); paid += amt
    VW = sum(vweight.values())
    for v in sorted(vweight):
        amt = rv * vweight[v] // VW; credit_op(v, amt); paid += amt
    pool += E - paid
    print(f"round {round_no}: E={E} T={T} S={S} rv={rv} rt={rt} W={W} VW={VW} paid={paid} pool={pool}")

# round 1
def r1(v, i, s):
    if v == "v6": return None
    if v == "v5" and i == 4: return 300_000
    return s
play(1, 3, [("t0",900_000),("t1",800_000),("t2",850_000),("t3",700_000),("t4",600_000)], r1)
# round 2: d0 undelegates 500 from v0 before assignment (settle first)
settle(("d0","v0")); deleg[("d0","v0")] -= 500; d0_unbonding = 500
def r2(v, i, s):
    if v == "v4" and i == 0: return 950_000
    if v == "v2": return s + 10_000
    return s
play(2, 2, [("t0",910_000),("t1",820_000),("t2",905_000),("t3",820_000)], r2)
def r3(v, i, s):
    if v == "v3": return None
    return s
play(3, 1, [("t0",500_000),("t1",600_000),("t2",700_000),("t3",800_000),("t4",900_000)], r3)
for k in deleg: settle(k)
print("own", own)
print("rewards", rewards)
print("dpending", dpending)
print("reserve", reserve)
print("pool", pool, "slashed", slashed_total)
# final balances: everyone unbonds & withdraws own (own + unbonding after slashes), claims rewards
staked = {f"t{i}": 1000 for i in range(5)}; staked.update({f"v{i}": 1000 for i in range(7)})
staked["t2"] += 1000; staked["v3"] += 1000
final = {}
for k in own:
    final[k] = START - staked[k] + own[k] + unb[k] + rewards.get(k, 0)
dels = {"d0": 1000, "d1": 2000, "d2": 1000}
for d in dels:
    final[d] = START - dels[d] + dels[d] + sum(v for (dd,o),v in dpending.items() if dd==d)
final["creator"] = START - 30_000
left_reserve = sum(reserve.values()) - sum(dpending.values())
print("final", final)
print("market left", pool + left_reserve, "reserve dust", left_reserve)
