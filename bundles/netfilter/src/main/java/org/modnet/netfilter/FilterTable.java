package org.modnet.netfilter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.modnet.api.net.NetDevice;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfNat;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/**
 * One namespace's iptables table, {@code filter} (iptable_filter.c) or {@code nat} (iptable_nat.c), and
 * ip_tables.c's ipt_do_table over it. Changes
 * are made under the table's lock on the chains and then published as a whole new {@link Snapshot}
 * (as ip_tables replaces the whole blob with {@code IPT_SO_SET_REPLACE}); the packet path reads the
 * snapshot once through a volatile field, so it never sees half a ruleset, takes no lock and
 * allocates nothing. Rules are shared between snapshots, so their counters carry over.
 */
final class FilterTable {
    static final String[] FILTER = { "INPUT", "FORWARD", "OUTPUT" };
    static final NfHook[] FILTER_HOOKS = { NfHook.LOCAL_IN, NfHook.FORWARD, NfHook.LOCAL_OUT };
    static final String[] NAT = { "PREROUTING", "INPUT", "OUTPUT", "POSTROUTING" };
    static final NfHook[] NAT_HOOKS = { NfHook.PRE_ROUTING, NfHook.LOCAL_IN, NfHook.LOCAL_OUT, NfHook.POST_ROUTING };
    /** iptable_mangle: every hook, at NF_IP_PRI_MANGLE (-150), after conntrack has seen the packet. */
    static final String[] MANGLE = { "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING" };
    static final NfHook[] MANGLE_HOOKS = { NfHook.PRE_ROUTING, NfHook.LOCAL_IN, NfHook.FORWARD, NfHook.LOCAL_OUT,
            NfHook.POST_ROUTING };
    /** iptable_raw: where packets enter, at NF_IP_PRI_RAW (-300), before conntrack (-200) sees them. */
    static final String[] RAW = { "PREROUTING", "OUTPUT" };
    static final NfHook[] RAW_HOOKS = { NfHook.PRE_ROUTING, NfHook.LOCAL_OUT };
    private static final java.util.concurrent.atomic.AtomicLong LOADED = new java.util.concurrent.atomic.AtomicLong();

    /** The table's name ({@code filter}, {@code nat}), its built-in chains and the hook of each. */
    final String name;
    final String[] builtin;
    private final NfHook[] hooks;
    static final int CONTINUE = 2, ACCEPT = 1, DROP = 0, STOLEN = 3;

    /** The QUEUE verdict's way to the namespace's queues ({@code nf_queue}), set by the command; null: none. */
    interface Queuer {
        /** STOLEN: queued; DROP: refused and counted; ACCEPT: bypassed. */
        Verdict queue(SkBuff skb, NfHook hook, NetDevice in, NetDevice out, int num, boolean bypass);
    }

    volatile Queuer queuer;
    /** Linux's jump stack bound (xt_jumpstack's depth): deeper is a loop refused at load. */
    static final int MAX_DEPTH = 64;

    static final class Chain {
        final String name;
        final boolean builtin;
        Rule.Kind policy = Rule.Kind.ACCEPT;
        AtomicLong packets = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        List<Rule> rules = new ArrayList<>();

        Chain(String name, boolean builtin) {
            this.name = name;
            this.builtin = builtin;
        }

        Chain copy() {
            Chain c = new Chain(name, builtin);
            c.policy = policy;
            c.packets = packets; // shared: a packet on the old snapshot still counts
            c.bytes = bytes;
            c.rules = new ArrayList<>(rules);
            return c;
        }
    }

    /** What the packet path reads: every chain's rules as arrays, jumps resolved to indices. */
    record Snapshot(Chain[] chains, Rule[][] rules, boolean empty) {
    }

    /** REJECT's answers: an ICMP error (type 3, the code given) or a TCP reset; null while IPv4 is not there. */
    interface Rejecter {
        void reject(SkBuff skb, int code);

        /** {@code nf_send_reset}: a RST for the TCP segment at {@code th}. */
        default void reset(SkBuff skb, int nh, int th) {
        }
    }

    private final Map<String, Chain> builtins = new java.util.LinkedHashMap<>();
    private final TreeMap<String, Chain> user = new TreeMap<>();
    private volatile Snapshot snapshot;
    volatile Rejecter rejecter;
    /** Where LOG's lines go: the instance's log (SLF4J), as the kernel's go to its ring buffer. */
    /** When the table was made: iptables-save lists the tables newest first, as /proc/net/ip_tables_names. */
    final long loaded = LOADED.incrementAndGet();
    /** The clock {@code -m limit} counts by (the core's, virtual in tests), in nanoseconds. */
    volatile java.util.function.LongSupplier clock = System::nanoTime;
    /** What {@code -m addrtype} asks about an address: the namespace's classes once a namespace owns the table. */
    volatile AddrType.Classifier addrType = AddrType.NONE;
    /** Where {@code -m set} and SET find a set by name, and tell how many rules refer to each (the ipset bundle's). */
    interface SetLookup {
        org.modnet.api.netfilter.IpSet get(String name);

        void references(String owner, Map<String, Integer> counts);
    }

    static final SetLookup NO_SETS = new SetLookup() {
        @Override
        public org.modnet.api.netfilter.IpSet get(String name) {
            return null;
        }

        @Override
        public void references(String owner, Map<String, Integer> counts) {
        }
    };

    volatile SetLookup sets = NO_SETS;
    /** The namespace's {@code -m hashlimit} tables, shared by name with its other iptables tables. */
    volatile Hashlimit.Registry hashlimits = new Hashlimit.Registry(() -> clock.getAsLong());
    volatile Consumer<String> log = org.slf4j.LoggerFactory.getLogger("org.modnet.netfilter.LOG")::warn;

    FilterTable() {
        this("filter", FILTER, FILTER_HOOKS);
    }

    FilterTable(String name, String[] builtin, NfHook[] hooks) {
        this.name = name;
        this.builtin = builtin;
        this.hooks = hooks;
        for (String b : builtin) {
            builtins.put(b, new Chain(b, true));
        }
        publish(chainsInOrder());
    }

    // ------------------------------------------------------------------ packet path

    /** ipt_do_table for one hook: the verdict of the hook's built-in chain. */
    Verdict run(NfHook hook, SkBuff skb, NetDevice in, NetDevice out) {
        return run(hook, skb, in, out, null);
    }

    /** ipt_do_table; {@code nat} is the NAT core the nat table's targets bind through (null for filter). */
    Verdict run(NfHook hook, SkBuff skb, NetDevice in, NetDevice out, NfNat nat) {
        Snapshot s = snapshot;
        int ci = -1;
        for (int i = 0; i < hooks.length; i++) {
            if (hooks[i] == hook) {
                ci = i;
            }
        }
        if (ci < 0) {
            return Verdict.ACCEPT;
        }
        Chain c = s.chains[ci];
        if (s.empty && c.policy == Rule.Kind.ACCEPT) {
            // no rule anywhere: only the policy counter moves
            int nh = skb.networkHeader();
            c.packets.incrementAndGet();
            c.bytes.addAndGet(skb.getU16(nh + 2));
            return Verdict.ACCEPT;
        }
        int nh = skb.networkHeader();
        int ihl = (skb.getU8(nh) & 0xf) << 2;
        int p = skb.getU8(nh + 9);
        int len = skb.getU16(nh + 2);
        int fragOff = skb.getU16(nh + 6) & 0x1fff;
        int need = p == 6 ? 20 : 8;
        int th = fragOff == 0 && nh + ihl + need <= skb.tail() ? nh + ihl : -1;
        int v = eval(s, ci, 0, skb, nh, th, p, len, in, out, hook, nat);
        if (v == CONTINUE) {
            c.packets.incrementAndGet();
            c.bytes.addAndGet(len);
            return c.policy == Rule.Kind.DROP ? Verdict.DROP : Verdict.ACCEPT;
        }
        return v == ACCEPT ? Verdict.ACCEPT : v == STOLEN ? Verdict.STOLEN : Verdict.DROP;
    }

    private int eval(Snapshot s, int ci, int depth, SkBuff skb, int nh, int th, int p, int len, NetDevice in,
            NetDevice out, NfHook hook, NfNat nat) {
        Rule[] rules = s.rules[ci];
        for (int i = 0; i < rules.length; i++) {
            Rule r = rules[i];
            int m = r.test(skb, nh, th, p, in, out);
            if (m <= 0) {
                if (m == Match.HOTDROP) {
                    return DROP; // ipt_do_table: a hotdrop ends the walk with NF_DROP
                }
                continue;
            }
            r.packets.incrementAndGet();
            r.bytes.addAndGet(len);
            switch (r.kind) {
                case ACCEPT:
                    return ACCEPT;
                case DROP:
                    return DROP;
                case RETURN:
                    return CONTINUE;
                case JUMP: {
                    if (depth + 1 >= MAX_DEPTH) {
                        return DROP; // cannot happen: loops and depth are refused when loaded
                    }
                    int v = eval(s, r.targetChain, depth + 1, skb, nh, th, p, len, in, out, hook, nat);
                    if (v != CONTINUE) {
                        return v;
                    }
                    break;
                }
                case GOTO:
                    // -g: go on in the other chain; its RETURN comes back to whoever called this one
                    rules = s.rules[r.targetChain];
                    i = -1;
                    break;
                case REJECT: {
                    Rejecter rj = rejecter;
                    if (rj != null) {
                        if (r.rejectWith.equals("tcp-reset")) {
                            if (p == 6 && th >= 0) {
                                rj.reset(skb, nh, th);
                            }
                        } else {
                            rj.reject(skb, rejectCode(r.rejectWith));
                        }
                    }
                    return DROP;
                }
                case SNAT, DNAT:
                    // nf_nat_setup_info: a range with no free tuple left drops the packet
                    return nat == null || nat.setup(skb, hook, r.natMinAddr, r.natMaxAddr, r.natMinPort, r.natMaxPort,
                            r.natFlags) == Verdict.ACCEPT ? ACCEPT : DROP;
                case MASQUERADE:
                    return nat == null || nat.masquerade(skb, out, r.natMinPort, r.natMaxPort, r.natFlags) == Verdict.ACCEPT
                            ? ACCEPT : DROP;
                case REDIRECT:
                    return nat == null || nat.redirect(skb, hook, in, r.natMinPort, r.natMaxPort, r.natFlags) == Verdict.ACCEPT
                            ? ACCEPT : DROP;
                case LOG:
                    log.accept(Log.format(r.logPrefix, skb, nh, th, p, in, out));
                    break;
                case NFQUEUE, QUEUE: {
                    // xt_NFQUEUE: NF_QUEUE with the number; without nfnetlink_queue a packet is dropped unless bypass
                    Queuer q = queuer;
                    Verdict qv = q != null ? q.queue(skb, hook, in, out, r.queueNum, r.queueBypass)
                            : r.queueBypass ? Verdict.ACCEPT : Verdict.DROP;
                    return qv == Verdict.STOLEN ? STOLEN : qv == Verdict.ACCEPT ? ACCEPT : DROP;
                }
                case MARK:
                    Targets.mark(r, skb);
                    break;
                case CONNMARK:
                    Targets.connmark(r, skb);
                    break;
                case NOTRACK:
                    Targets.notrack(skb);
                    break;
                case CT:
                    if (r.notrack) {
                        Targets.notrack(skb);
                    } else {
                        Targets.ctTemplate(r, skb);
                    }
                    break;
                case TCPMSS:
                    if (!Targets.tcpmss(r, skb, nh, th, in, out)) {
                        return DROP;
                    }
                    break;
                case TOS, DSCP, TTL:
                    Targets.ipHeader(r, skb, nh);
                    break;
                case SET:
                    // xt_SET: add and delete the packet's key, then go on (XT_CONTINUE)
                    if (r.addSet != null) {
                        r.addSet.set.add(skb, nh, th, p, r.addSet.dim, r.addSet.srcFlags, r.setTimeout, r.setExist);
                    }
                    if (r.delSet != null) {
                        r.delSet.set.del(skb, nh, th, p, r.delSet.dim, r.delSet.srcFlags);
                    }
                    break;
                default:
                    break;
            }
        }
        return CONTINUE;
    }

    static int rejectCode(String with) {
        return switch (with) {
            case "icmp-net-unreachable" -> 0;
            case "icmp-host-unreachable" -> 1;
            case "icmp-proto-unreachable" -> 2;
            case "icmp-net-prohibited" -> 9;
            case "icmp-host-prohibited" -> 10;
            case "icmp-admin-prohibited" -> 13;
            default -> 3;
        };
    }

    // ------------------------------------------------------------------ control plane

    private List<Chain> chainsInOrder() {
        List<Chain> l = new ArrayList<>();
        for (String b : builtin) {
            l.add(builtins.get(b));
        }
        l.addAll(user.values());
        return l;
    }

    /** All chains, built-ins first then user chains by name (libiptc's order). */
    synchronized List<Chain> chains() {
        return chainsInOrder();
    }

    synchronized Chain chain(String name) {
        Chain c = builtins.get(name);
        return c != null ? c : user.get(name);
    }

    /** Chains referring to {@code name} by jump or goto. */
    synchronized int references(String name) {
        int n = 0;
        for (Chain c : chainsInOrder()) {
            for (Rule r : c.rules) {
                if ((r.kind == Rule.Kind.JUMP || r.kind == Rule.Kind.GOTO) && r.target.equals(name)) {
                    n++;
                }
            }
        }
        return n;
    }

    /** A change: applied to a copy of every chain, checked, then published whole (or not at all). */
    interface Change {
        void apply(Map<String, Chain> builtins, TreeMap<String, Chain> user);
    }

    synchronized void change(Change change) {
        Map<String, Chain> b = new java.util.LinkedHashMap<>();
        builtins.forEach((k, v) -> b.put(k, v.copy()));
        TreeMap<String, Chain> u = new TreeMap<>();
        user.forEach((k, v) -> u.put(k, v.copy()));
        change.apply(b, u);
        List<Chain> order = new ArrayList<>();
        for (String n : builtin) {
            order.add(b.get(n));
        }
        order.addAll(u.values());
        Snapshot s = build(order); // throws when a target is missing or chains loop
        builtins.clear();
        builtins.putAll(b);
        user.clear();
        user.putAll(u);
        snapshot = s;
        hashlimits.use(name, hashlimitNames(order));
        sets.references("iptables/" + name, setReferences(order));
    }

    /**
     * A new ipset module came (an {@code update ipset}): each {@code -m set}, {@code --add-set} and
     * {@code --del-set} takes the new version's set of its name, which adopted the old one's elements,
     * and the new version learns what refers to its sets. Until then the rules used the old sets, which
     * kept working: no packet finds no set.
     */
    synchronized void relinkSets() {
        List<Chain> order = chainsInOrder();
        for (Chain c : order) {
            for (Rule r : c.rules) {
                for (Match m : r.matches) {
                    if (m instanceof Matches.Set s) {
                        relink(s);
                    }
                }
                if (r.addSet != null) {
                    relink(r.addSet);
                }
                if (r.delSet != null) {
                    relink(r.delSet);
                }
            }
        }
        sets.references("iptables/" + name, setReferences(order));
    }

    private void relink(Matches.Set s) {
        org.modnet.api.netfilter.IpSet n = sets.get(s.name);
        if (n != null) {
            s.set = n;
        }
    }

    /** How many of this table's rules name each set (a rule counts once per -m set, --add-set and --del-set). */
    private static Map<String, Integer> setReferences(List<Chain> order) {
        Map<String, Integer> n = new HashMap<>();
        for (Chain c : order) {
            for (Rule r : c.rules) {
                for (Match m : r.matches) {
                    if (m instanceof Matches.Set s) {
                        n.merge(s.name, 1, Integer::sum);
                    }
                }
                if (r.addSet != null) {
                    n.merge(r.addSet.name, 1, Integer::sum);
                }
                if (r.delSet != null) {
                    n.merge(r.delSet.name, 1, Integer::sum);
                }
            }
        }
        return n;
    }

    /** The {@code --hashlimit-name}s this table's rules give: their tables live while one names them. */
    private static java.util.Set<String> hashlimitNames(List<Chain> order) {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (Chain c : order) {
            for (Rule r : c.rules) {
                for (Match m : r.matches) {
                    if (m instanceof Hashlimit.Match h) {
                        names.add(h.cfg.name);
                    }
                }
            }
        }
        return names;
    }

    private void publish(List<Chain> order) {
        snapshot = build(order);
    }

    private Snapshot build(List<Chain> order) {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            index.put(order.get(i).name, i);
        }
        Rule[][] rules = new Rule[order.size()][];
        boolean empty = true;
        for (int i = 0; i < order.size(); i++) {
            List<Rule> l = order.get(i).rules;
            for (Rule r : l) {
                if (r.kind == Rule.Kind.JUMP || r.kind == Rule.Kind.GOTO) {
                    Integer t = index.get(r.target);
                    if (t == null || t < builtin.length) {
                        throw new CommandException("iptables: No chain/target/match by that name.", 1);
                    }
                }
            }
            empty &= l.isEmpty();
        }
        // resolve on fresh copies of the jump rules' indices: a rule object is shared between
        // snapshots and a chain index can change, so index lookups are stored per snapshot
        for (int i = 0; i < order.size(); i++) {
            List<Rule> l = order.get(i).rules;
            rules[i] = new Rule[l.size()];
            for (int j = 0; j < l.size(); j++) {
                Rule r = l.get(j);
                if (r.kind == Rule.Kind.JUMP || r.kind == Rule.Kind.GOTO) {
                    int t = index.get(r.target);
                    if (r.targetChain != t) {
                        r = r.withTargetChain(t);
                        l.set(j, r);
                    }
                }
                rules[i][j] = r;
            }
        }
        int[] depth = new int[rules.length]; // 0: not seen, -1: on the path now, else 1 + the deepest call below
        for (int i = 0; i < builtin.length; i++) {
            depth(rules, i, depth);
        }
        return new Snapshot(order.toArray(new Chain[0]), rules, empty);
    }

    /** How deep calls go from chain ci, each chain walked once; a loop or more than MAX_DEPTH is refused. */
    private static int depth(Rule[][] rules, int ci, int[] depth) {
        if (depth[ci] == -1) {
            throw new CommandException("iptables: Too many levels of symbolic links.", 1);
        }
        if (depth[ci] > 0) {
            return depth[ci];
        }
        depth[ci] = -1;
        int d = 1;
        for (Rule r : rules[ci]) {
            if (r.kind == Rule.Kind.JUMP || r.kind == Rule.Kind.GOTO) {
                d = Math.max(d, 1 + depth(rules, r.targetChain, depth));
            }
        }
        if (d > MAX_DEPTH) {
            throw new CommandException("iptables: Too many levels of symbolic links.", 1);
        }
        depth[ci] = d;
        return d;
    }
}