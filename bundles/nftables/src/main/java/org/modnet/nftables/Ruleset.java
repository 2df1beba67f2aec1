package org.modnet.nftables;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfNat;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/**
 * One namespace's nf_tables ruleset: tables with their chains, rules and sets. A change (one command
 * or a whole {@code nft -f} file) is made on a copy, and only when all of it succeeds is the copy
 * compiled to expression arrays and published through one volatile field (nf_tables' transaction
 * commit): the packet path reads one {@link Compiled}, never half a ruleset, with no lock.
 */
final class Ruleset {
    static final String[] HOOKS = { "prerouting", "input", "forward", "output", "postrouting" };

    static final class Table {
        final String family, name;
        int handle;
        int nextHandle = 1;
        final LinkedHashMap<String, Chain> chains = new LinkedHashMap<>();
        final LinkedHashMap<String, NSet> sets = new LinkedHashMap<>();
        /** Named counters ({@code add counter T NAME}): nft lists them first. */
        final LinkedHashMap<String, CounterObj> counters = new LinkedHashMap<>();
        /** Named quotas ({@code add quota T NAME { [over] N UNIT [used N UNIT] }}), listed with the counters by handle. */
        final LinkedHashMap<String, QuotaObj> quotas = new LinkedHashMap<>();
        /** Named limits ({@code add limit T NAME { rate [over] N/UNIT [burst N packets] }}). */
        final LinkedHashMap<String, LimitObj> limits = new LinkedHashMap<>();

        Table(String family, String name) {
            this.family = family;
            this.name = name;
        }

        Table copy() {
            Table t = new Table(family, name);
            t.handle = handle;
            t.nextHandle = nextHandle;
            chains.forEach((k, c) -> t.chains.put(k, c.copy()));
            sets.forEach((k, s) -> t.sets.put(k, s.copy()));
            t.counters.putAll(counters); // immutable but for the counter itself, which every version shares
            t.quotas.putAll(quotas);
            t.limits.putAll(limits);
            return t;
        }
    }

    static final class Chain {
        final String name;
        int handle;
        /** filter or nat for a base chain, null for a regular one. */
        String type;
        String hook;
        /** The device a netdev ingress chain is bound to (by name: it may come later, as Linux 6 allows). */
        String device;
        int prio;
        boolean policyDrop;
        List<Rule> rules = new ArrayList<>();

        Chain(String name) {
            this.name = name;
        }

        boolean base() {
            return type != null;
        }

        Chain copy() {
            Chain c = new Chain(name);
            c.handle = handle;
            c.type = type;
            c.hook = hook;
            c.device = device;
            c.prio = prio;
            c.policyDrop = policyDrop;
            c.rules = new ArrayList<>(rules);
            return c;
        }
    }

    static final class NSet {
        final String name;
        int handle;
        /** The key's type as nft lists it ({@code ipv4_addr . inet_service}), its parts, and a map's data. */
        String type;
        List<Stmt.Type> key = List.of();
        /** A map's data type as listed ({@code verdict}, {@code ipv4_addr}), null for a set. */
        String dataType;
        List<Stmt.Type> data = List.of();
        boolean interval;
        /** Elements in nft's listing order (none here for a set with a {@link #dyn}). */
        List<Elem> elems = new ArrayList<>();
        /** {@code flags timeout}, {@code flags dynamic} (nft sets it when a rule of the same batch adds to the set). */
        boolean timeoutFlag, dynamicFlag;
        /** The set's {@code timeout} and {@code gc-interval} in milliseconds (0: none given), its {@code size} (0: none). */
        long timeout, gcInterval;
        int size;
        /** The elements of a set with timeouts or one rules add to: shared by every version of the model, as a counter. */
        DynSet dyn;

        /** Whether its elements may time out. */
        boolean timeouts() {
            return timeoutFlag || timeout > 0;
        }

        boolean map() {
            return dataType != null;
        }

        boolean vmap() {
            return "verdict".equals(dataType);
        }

        NSet(String name) {
            this.name = name;
        }

        NSet copy() {
            NSet s = new NSet(name);
            s.handle = handle;
            s.type = type;
            s.key = key;
            s.dataType = dataType;
            s.data = data;
            s.interval = interval;
            s.elems = new ArrayList<>(elems);
            s.timeoutFlag = timeoutFlag;
            s.dynamicFlag = dynamicFlag;
            s.timeout = timeout;
            s.gcInterval = gcInterval;
            s.size = size;
            s.dyn = dyn;
            return s;
        }
    }

    /** A named counter object (nft_counter as a stateful object): its counter is shared by every version of the model. */
    record CounterObj(String name, int handle, Expr.Counter counter) {
    }

    /** A named limit object (nft_limit as a stateful object): one token bucket for every rule naming it. */
    record LimitObj(String name, int handle, Stmt.Limit limit) {
    }

    /** A named quota object (nft_quota as a stateful object): its consumed bytes are shared by every version. */
    record QuotaObj(String name, int handle, Expr.Quota quota) {
    }

    /** A rule: its statements (immutable; counters inside them are shared between versions) and handle. */
    record Rule(int handle, List<Stmt> stmts) {
    }

    /** The model, changed only on copies. */
    static final class Model {
        final List<Table> tables = new ArrayList<>();
        int nextTableHandle = 1;

        Model copy() {
            Model m = new Model();
            m.nextTableHandle = nextTableHandle;
            for (Table t : tables) {
                m.tables.add(t.copy());
            }
            return m;
        }

        Table table(String family, String name) {
            for (Table t : tables) {
                if (t.family.equals(family) && t.name.equals(name)) {
                    return t;
                }
            }
            return null;
        }
    }

    /** A base chain as the packet path sees it. */
    record Base(int chain, int prio, boolean policyDrop, boolean nat, String device) {
    }

    /** The compiled hooks' slot for the netdev family's ingress, after IPv4's five. */
    static final int INGRESS = 5;

    /** What the packet path reads: every chain's rules as expression arrays, base chains per hook by priority. */
    record Compiled(Expr[][][] chains, Base[][] hooks) {
    }

    private volatile Model model = new Model();
    private volatile Compiled compiled = new Compiled(new Expr[0][][], new Base[6][]);
    volatile Expr.Rejecter rejecter;
    /** The instance's clock (the core's, virtual in tests), for limit. */
    volatile java.util.function.LongSupplier clock = System::nanoTime;
    volatile Consumer<String> log = org.slf4j.LoggerFactory.getLogger("org.modnet.nftables.log")::warn;

    Ruleset() {
        for (int i = 0; i < 6; i++) {
            compiled.hooks()[i] = new Base[0];
        }
    }

    Model model() {
        return model;
    }

    /** Applies {@code change} to a copy and publishes it whole; an exception leaves the ruleset as it was. */
    synchronized <T> T change(java.util.function.Function<Model, T> change) {
        Model m = model.copy();
        T out = change.apply(m);
        Compiled c = compile(m);
        model = m;
        compiled = c;
        armGc();
        return out;
    }

    /** The garbage collector's timer on the core's wheel (null: none, as in unit tests, which call {@link #gc} themselves). */
    volatile org.modnet.api.net.Timer gcTimer;

    /** The shortest {@code gc-interval} of the sets with timeouts (nft_set_gc_interval: 1 s when none is given), or 0 when no set has timeouts. */
    private long gcInterval() {
        long every = 0;
        for (Table t : model.tables) {
            for (NSet s : t.sets.values()) {
                if (s.dyn != null && s.timeouts()) {
                    long i = s.gcInterval > 0 ? s.gcInterval : 1000;
                    every = every == 0 ? i : Math.min(every, i);
                }
            }
        }
        return every;
    }

    private void armGc() {
        org.modnet.api.net.Timer t = gcTimer;
        long every = gcInterval();
        if (t != null && every > 0 && !t.pending()) {
            t.mod(every);
        }
    }

    /** The collector's run (nft_rhash_gc): every set's expired elements freed; again after the interval while sets have timeouts. Returns how many. */
    int gcNow() {
        return gc0();
    }

    /** The timer's function. */
    void gc() {
        gc0();
    }

    private int gc0() {
        long now = clock.getAsLong();
        int n = 0;
        for (Table t : model.tables) {
            for (NSet s : t.sets.values()) {
                if (s.dyn != null) {
                    n += s.dyn.collect(now);
                }
            }
        }
        org.modnet.api.net.Timer t = gcTimer;
        long every = gcInterval();
        if (t != null && every > 0) {
            t.mod(every);
        }
        return n;
    }

    static int hookIndex(NfHook h) {
        return switch (h) {
            case PRE_ROUTING -> 0;
            case LOCAL_IN -> 1;
            case FORWARD -> 2;
            case LOCAL_OUT -> 3;
            case POST_ROUTING -> 4;
        };
    }

    private Compiled compile(Model m) {
        Map<Chain, Integer> index = new HashMap<>();
        List<Chain> all = new ArrayList<>();
        List<Map<String, Integer>> byTable = new ArrayList<>();
        for (Table t : m.tables) {
            Map<String, Integer> names = new HashMap<>();
            for (Chain c : t.chains.values()) {
                index.put(c, all.size());
                names.put(c.name, all.size());
                all.add(c);
            }
            byTable.add(names);
        }
        Expr[][][] chains = new Expr[all.size()][][];
        List<List<Base>> hooks = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            hooks.add(new ArrayList<>());
        }
        int ti = 0;
        for (Table t : m.tables) {
            Map<String, Integer> names = byTable.get(ti++);
            Map<String, SetData> sets = new HashMap<>();
            Map<String, NSet> nsets = new HashMap<>(t.sets);
            for (NSet s : t.sets.values()) {
                sets.put(s.name, SetData.build(s.elems, s.interval, s.key.size(), s.vmap() ? 0 : s.data.size(), s.vmap() ? names : null));
            }
            Stmt.Ctx ctx = new Stmt.Ctx(names, sets, nsets, rejecter, log);
            for (Chain c : t.chains.values()) {
                Expr[][] rules = new Expr[c.rules.size()][];
                for (int i = 0; i < rules.length; i++) {
                    List<Expr> e = new ArrayList<>();
                    for (Stmt s : c.rules.get(i).stmts()) {
                        s.compile(e, ctx);
                    }
                    rules[i] = e.toArray(new Expr[0]);
                }
                chains[index.get(c)] = rules;
                if (c.base()) {
                    int h = c.hook.equals("ingress") ? INGRESS : Arrays.asList(HOOKS).indexOf(c.hook);
                    hooks.get(h).add(new Base(index.get(c), c.prio, c.policyDrop, c.type.equals("nat"), c.device));
                }
            }
        }
        Base[][] hk = new Base[6][];
        for (int i = 0; i < 6; i++) {
            List<Base> l = hooks.get(i);
            l.sort((a, b) -> Integer.compare(a.prio(), b.prio())); // stable: equal priorities in the order made
            hk[i] = l.toArray(new Base[0]);
        }
        return new Compiled(chains, hk);
    }

    // ------------------------------------------------------------------ packet path

    /** Every filter base chain's hook index and priority, as {@code hook << 32 | prio}: the hook functions this ruleset needs. */
    java.util.Set<Long> filterHooks() {
        java.util.Set<Long> out = new java.util.HashSet<>();
        Base[][] hk = compiled.hooks();
        for (int h = 0; h < INGRESS; h++) {
            for (Base b : hk[h]) {
                if (!b.nat()) {
                    out.add((long) h << 32 | (b.prio() & 0xffffffffL));
                }
            }
        }
        return out;
    }

    /** The devices some netdev ingress chain names: the ones whose ingress needs a hook. */
    java.util.Set<String> ingressDevices() {
        java.util.Set<String> out = new java.util.HashSet<>();
        for (Base b : compiled.hooks()[INGRESS]) {
            out.add(b.device());
        }
        return out;
    }

    /**
     * nft_do_chain for the netdev family's ingress ({@code nf_hook_ingress}): the chains bound to
     * {@code dev} by priority, before IPv4 sees the frame. A frame that is not IPv4 (ARP) has no
     * network header for {@code ip} and {@code tcp} expressions, so they do not match it (nft's implicit
     * {@code meta protocol ip} dependency in this family).
     */
    Verdict runIngress(SkBuff skb, NetDevice dev) {
        Compiled c = compiled;
        Base[] bases = c.hooks()[INGRESS];
        if (bases.length == 0) {
            return Verdict.ACCEPT;
        }
        String name = dev.name();
        Regs r = Regs.acquire();
        r.setIngress(skb, dev, clock);
        try {
            for (Base b : bases) {
                if (!name.equals(b.device())) {
                    continue;
                }
                int v = doChain(c.chains(), b.chain(), r);
                if (v == Regs.DROP || (v == Regs.CONTINUE && b.policyDrop())) {
                    return Verdict.DROP;
                }
            }
            return Verdict.ACCEPT;
        } finally {
            r.release();
        }
    }

    /** nft_do_chain over the hook's base chains of one type ({@code nat}: the nat chains, with the NAT core). */
    Verdict run(NfHook hook, SkBuff skb, NetDevice in, NetDevice out, boolean natType, NfNat nat) {
        return run(hook, skb, in, out, natType, nat, false, 0);
    }

    /** The filter base chains of the hook at priority {@code prio} only: what the hook function registered at it runs. */
    Verdict run(NfHook hook, SkBuff skb, NetDevice in, NetDevice out, int prio) {
        return run(hook, skb, in, out, false, null, true, prio, null);
    }

    /** As above, from hook function {@code from}: a queued packet resumes after it. */
    Verdict run(NfHook hook, SkBuff skb, NetDevice in, NetDevice out, int prio, org.modnet.api.netfilter.NfHookFunction from) {
        return run(hook, skb, in, out, false, null, true, prio, from);
    }

    /** The QUEUE verdict's way to the namespace's queues; null: queue drops (or bypasses). */
    volatile Expr.Queuer queuer;
    /** The namespace whose ruleset this is (null: none, as in tests): the hook functions' cache checks it. */
    org.modnet.api.net.NetNamespace owner;

    private Verdict run(NfHook hook, SkBuff skb, NetDevice in, NetDevice out, boolean natType, NfNat nat, boolean onePrio,
            int prio) {
        return run(hook, skb, in, out, natType, nat, onePrio, prio, null);
    }

    private Verdict run(NfHook hook, SkBuff skb, NetDevice in, NetDevice out, boolean natType, NfNat nat, boolean onePrio,
            int prio, org.modnet.api.netfilter.NfHookFunction from) {
        Compiled c = compiled;
        Base[] bases = c.hooks()[hookIndex(hook)];
        if (bases.length == 0) {
            return Verdict.ACCEPT;
        }
        Regs r = Regs.acquire();
        r.set(skb, hook, in, out, nat, clock);
        r.from(from);
        r.queuer(queuer);
        try {
            for (Base b : bases) {
                if (b.nat() != natType || onePrio && b.prio() != prio) {
                    continue;
                }
                int v = doChain(c.chains(), b.chain(), r);
                if (v == Regs.STOLEN) {
                    return Verdict.STOLEN; // the queue holds it now
                }
                if (v == Regs.DROP || (v == Regs.CONTINUE && b.policyDrop())) {
                    return Verdict.DROP;
                }
                if (natType && v == Regs.ACCEPT) {
                    return Verdict.ACCEPT; // the first nat chain that binds decides (nf_nat_inet_fn)
                }
            }
            return Verdict.ACCEPT;
        } finally {
            r.release();
        }
    }

    /** Runs a base chain: ACCEPT, DROP, or CONTINUE when it fell off its end (the policy decides). */
    private static int doChain(Expr[][][] chains, int base, Regs r) {
        int chain = base;
        int rule = 0;
        int sp = 0;
        while (true) {
            Expr[][] rules = chains[chain];
            boolean next = false;
            for (; rule < rules.length; rule++) {
                Expr[] rl = rules[rule];
                r.verdict = Regs.CONTINUE;
                for (Expr e : rl) {
                    e.eval(r);
                    if (r.verdict != Regs.CONTINUE) {
                        break;
                    }
                }
                int v = r.verdict;
                if (v == Regs.CONTINUE || v == Regs.BREAK) {
                    continue;
                }
                if (v == Regs.ACCEPT || v == Regs.DROP || v == Regs.STOLEN) {
                    return v;
                }
                if (v == Regs.JUMP) {
                    if (sp == Regs.STACK) {
                        return Regs.DROP; // refused at load; cannot happen
                    }
                    r.stackChain[sp] = chain;
                    r.stackRule[sp++] = rule + 1;
                }
                if (v == Regs.JUMP || v == Regs.GOTO) {
                    chain = r.chain;
                    rule = 0;
                    next = true;
                    break;
                }
                if (v == Regs.RETURN) {
                    break;
                }
            }
            if (next) {
                continue;
            }
            // end of chain or return: back to the caller, or the base chain's policy
            if (sp == 0) {
                return Regs.CONTINUE;
            }
            chain = r.stackChain[--sp];
            rule = r.stackRule[sp];
        }
    }
}
