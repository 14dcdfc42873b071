#!/usr/bin/env python3
"""The independent integer model behind the expected amounts of
src/testing/whole_task.rs: the formulas of docs/design.md written out with floors, sharing no
code with the contract. Run it with `python3 whole_task_model.py`; its output is the test's
expectations.

Stakes are snapshotted: round r uses the stakes, delegations and commissions as they stood when
its stakes froze (round 1: end of its submission phase; round r > 1: end of round r-1's commit
phase). In the test, round 1's slashings (at its finalization, in round 2) and the undelegation
at round 2's start therefore count from round 3 on. A reveal weighs the validator's own stake in
the consensus; its reward weight is its effective stake, graded by its distance d from the
consensus: floor(S * (tau - d) / tau) for d <= tau."""
import copy
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
dpending = {k: 0 for k in deleg}
# Per delegation: the round through which it is settled, and its amount by the round it counts from.
dsettled = {k: 0 for k in deleg}
dhistory = {k: {1: a} for k, a in deleg.items()}
# Per operator: cumulative reward index after each round that paid its delegators.
index_after = {k: {} for k in own}
rewards = {}
pool = 30_000
slashed_total = 0
def freeze():
    """The stakes as they stand now, to be used by a round whose stakes freeze now."""
    return {"own": dict(own), "deleg": dict(deleg), "commission": dict(commission)}
def delegated(snap, op): return sum(a for (d,o),a in snap["deleg"].items() if o==op)
def eff(snap, op):
    o = snap["own"][op]
    return o + mul_floor(delegated(snap, op), eps) if o >= 100 else 0
def sumT(snap): return sum(eff(snap, k) for k in own if k[0]=="t")
def sumS(snap): return sum(eff(snap, k) for k in own if k[0]=="v")
def credit(k, amt):
    rewards[k] = rewards.get(k, 0) + amt
def credit_op(snap, round_no, op, amt):
    if amt == 0: return
    D = delegated(snap, op); e = mul_floor(D, eps); o = snap["own"][op]
    due = amt * e // (o + e) if o + e > 0 else 0
    dels = mul_floor(due, ONE - snap["commission"][op])
    credit(op, amt - dels)
    if dels > 0:
        index[op] += dels * ONE // D
        index_after[op][round_no] = index[op]
        reserve[op] += dels
def index_at(op, r):
    done = [x for x in index_after[op] if x <= r]
    return index_after[op][max(done)] if done else 0
def amount_at(key, r):
    done = [x for x in dhistory[key] if x <= r]
    return dhistory[key][max(done)] if done else 0
def settle(key, through):
    """Accrues each stretch of rounds with one amount, floored once per stretch (as the contract)."""
    d, o = key
    start = dsettled[key]
    if start >= through: return
    idx = index_at(o, start); amount = amount_at(key, start + 1)
    for e in sorted(x for x in dhistory[key] if start + 1 < x <= through):
        until = index_at(o, e - 1)
        dpending[key] += amount * (until - idx) // ONE
        idx = until; amount = dhistory[key][e]
    until = index_at(o, through)
    dpending[key] += amount * (until - idx) // ONE
    dsettled[key] = through
def slash(v, share):
    global pool, slashed_total
    amt = mul_floor(own[v] + unb[v], share)
    fo = min(amt, own[v]); own[v] -= fo; unb[v] -= amt - fo
    pool += amt; slashed_total += amt
    return amt

def play(round_no, rounds_left, subs, reveals, frozen):
    """subs: list of (trainer, true score); reveals[v] = function(sub_index, score)->score or None;
    frozen: the stakes as they stood at the round's freeze"""
    global pool
    vals = [f"v{i}" for i in range(7)]
    weight = {v: frozen["own"][v] for v in vals}   # consensus weight: own stake only (k=7)
    reward_w = {v: eff(frozen, v) for v in vals}
    tstake = {t: eff(frozen, t) for t, _ in subs}
    E = pool // rounds_left; pool -= E
    T, S = sumT(frozen), sumS(frozen)
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
        rw = sum(weight[v] for v in revs); aw = sum(weight.values())
        if rw * ONE >= aw * pct(50):
            srt = sorted(revs.items(), key=lambda kv: kv[1])  # ties by address don't change C
            below = 0; C = None
            for v, s in srt:
                below += weight[v]
                if 2*below >= rw: C = s; break
            above = 0; U = None
            for v, s in reversed(srt):
                above += weight[v]
                if 2*above >= rw: U = s; break
            assert U - C <= tau, "no even split in this test"
            for v, s in revs.items():
                dist = abs(s - C)
                # Graded: full weight at the consensus, falling linearly to nothing at tau.
                if dist <= tau: vweight[v] = vweight.get(v, 0) + reward_w[v] * (tau - dist) // tau
                elif dist > obound: slash(v, outlier)
            ranking.append((-C, i, t))
    ranking.sort()
    weights = [(t, mul_floor(tstake[t], qpow(r))) for r, (_, i, t) in enumerate(ranking)]
    W = sum(w for _, w in weights)
    paid = 0
    for t, w in weights:
        amt = rt * w // W; credit_op(frozen, round_no, t, amt); paid += amt
    VW = sum(vweight.values())
    for v in sorted(vweight):
        amt = rv * vweight[v] // VW; credit_op(frozen, round_no, v, amt); paid += amt
    pool += E - paid
    print(f"round {round_no}: E={E} T={T} S={S} rv={rv} rt={rt} W={W} VW={VW} paid={paid} pool={pool}")

# Everything above was staked in round 1's submission phase: rounds 1 and 2 freeze on it.
frozen_1_2 = freeze()
# round 1
def r1(v, i, s):
    if v == "v6": return None
    if v == "v5" and i == 4: return 300_000
    return s
play(1, 3, [("t0",900_000),("t1",800_000),("t2",850_000),("t3",700_000),("t4",600_000)], r1, frozen_1_2)
# round 2's start (round 1 finalized): d0 undelegates 500 from v0; it counts from round 3.
settle(("d0","v0"), 1); deleg[("d0","v0")] -= 500; dhistory[("d0","v0")][3] = deleg[("d0","v0")]
frozen_3 = freeze()
def r2(v, i, s):
    if v == "v4" and i == 0: return 950_000
    if v == "v2": return s + 10_000
    return s
play(2, 2, [("t0",910_000),("t1",820_000),("t2",905_000),("t3",820_000)], r2, frozen_1_2)
def r3(v, i, s):
    if v == "v3": return None
    return s
play(3, 1, [("t0",500_000),("t1",600_000),("t2",700_000),("t3",800_000),("t4",900_000)], r3, frozen_3)
for k in deleg: settle(k, 3)
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
