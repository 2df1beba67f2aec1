package org.modnet.sched;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.sched.TcHook;
import org.modnet.api.shell.CommandException;
import org.modnet.api.skb.SkBuff;

/**
 * The action side of {@code net/sched/act_api.c} with iproute2's {@code m_action.c}: reads
 * {@code action KIND ARGS [action ...]} into actions, numbers each within its kind, runs a filter's
 * actions on a frame ({@code tcf_action_exec}) and prints them.
 */
final class ActApi {
    /** {@code TCA_ACT_MAX_PRIO}: actions one filter may hold. */
    static final int MAX_ACTIONS = 32;
    /** iproute2's default {@code mtu} of a policer with a rate: 2047 bytes, printed {@code 2Kb}. */
    static final long POLICE_DEFAULT_MTU = 2047;

    private final NetCore core;
    /** Each namespace's actions by kind and index ({@code tc_action_net}'s idr), every one of them: shared or a filter's own. */
    private final Map<NetNamespace, Map<String, java.util.TreeMap<Integer, TcAction>>> tables = new ConcurrentHashMap<>();
    /** Guards the tables and every action's reference counts. */
    private static final Object LOCK = new Object();

    /** While {@code tc actions replace|change} parses: an index that is there gives the fresh action, not the old one. */
    private boolean keepFresh;

    ActApi(NetCore core) {
        this.core = core;
    }

    /** {@code tcf_action_exec}: actions in order while they say pipe; the first other verdict is the result. */
    static int exec(TcAction[] actions, SkBuff skb, boolean ingress) {
        int ret = TcHook.TC_ACT_OK;
        for (TcAction a : actions) {
            ret = a.act(skb, ingress);
            if (ret != TcHook.TC_ACT_PIPE) {
                return ret;
            }
        }
        return ret;
    }

    private java.util.TreeMap<Integer, TcAction> table(NetNamespace ns, String kind) {
        return tables.computeIfAbsent(ns, n -> new ConcurrentHashMap<>()).computeIfAbsent(kind, k -> new java.util.TreeMap<>());
    }

    /** The action of that kind and index in the namespace, or null. */
    TcAction find(NetNamespace ns, String kind, int index) {
        synchronized (LOCK) {
            return table(ns, kind).get(index);
        }
    }

    /** An action named by an index that is there already: that one, to be bound again ({@code tcf_idr_check_alloc}); else {@code a}. */
    private TcAction existing(NetNamespace ns, TcAction a) {
        if (keepFresh) {
            return a; // tc actions replace|change: the new parameters, for the one there to take
        }
        TcAction there = a.index == 0 ? null : find(ns, a.kind(), a.index);
        return there != null ? there : a;
    }

    /**
     * Puts the actions a command made into their tables and takes a reference on each; {@code bind}: a
     * filter holds them (ref and bind), else {@code tc actions add} (ref only). Called once the command
     * can no longer fail.
     */
    void commit(NetNamespace ns, TcAction[] actions, boolean bind) {
        synchronized (LOCK) {
            for (TcAction a : actions) {
                if (a.table == null) {
                    java.util.TreeMap<Integer, TcAction> t = table(ns, a.kind());
                    if (a.index == 0) {
                        int i = 1;
                        while (t.containsKey(i)) {
                            i++;
                        }
                        a.index = i;
                    }
                    t.put(a.index, a);
                    a.table = t;
                }
                a.refcnt++;
                if (bind) {
                    a.bindcnt++;
                }
            }
        }
    }

    /** Lets go of one reference (a filter's: {@code bind}); the last takes the action out of its table. */
    static void release(TcAction a, boolean bind) {
        boolean last;
        synchronized (LOCK) {
            if (a.table == null) {
                last = true; // never committed: a refused command's
            } else {
                a.refcnt--;
                if (bind) {
                    a.bindcnt--;
                }
                last = a.refcnt <= 0;
                if (last) {
                    a.table.remove(a.index, a);
                }
            }
        }
        if (last) {
            a.destroy();
        }
    }

    /** True when the cursor stands on {@code action} or {@code actions}. */
    static boolean atAction(TcFilterArgs a) {
        String w = a.peek();
        return "action".equals(w) || "actions".equals(w);
    }

    /** {@code parse_action}: every {@code action ...} from the cursor on; stops at the first word of none. */
    List<TcAction> parse(NetNamespace ns, TcFilterArgs a) {
        List<TcAction> out = new ArrayList<>();
        while (atAction(a)) {
            a.next();
            if (out.size() == MAX_ACTIONS) {
                throw new CommandException("Error: Too many actions.", 2);
            }
            String kind = a.value();
            if (kind.equals("goto") || kind.equals("gact") && "goto".equals(a.peek())) { // "action goto chain N"
                if (kind.equals("gact")) {
                    a.next();
                }
                out.add(existing(ns, gact(gotoChain(a), a)));
                continue;
            }
            Integer control = TcAction.verdict(kind);
            if (control != null) { // "action drop": gact by its control word
                out.add(existing(ns, gact(control, a)));
                continue;
            }
            switch (kind) {
                case "gact" -> {
                    Integer v = TcAction.verdict(a.value());
                    if (v == null) {
                        a.back();
                        throw new CommandException("bad action type " + a.next() + "\n" + GACT_USAGE, 1);
                    }
                    out.add(existing(ns, gact(v, a)));
                }
                case "mirred" -> out.add(existing(ns, mirred(ns, a)));
                case "police" -> {
                    TcAction p = police(ns, a);
                    out.add(p.table != null ? p : existing(ns, p));
                }
                default -> throw new CommandException("bad action type " + kind + "\n" + ACTION_USAGE, 1);
            }
        }
        return out;
    }

    static final String ACTION_USAGE = """
            Usage: ... gact <ACTION> [RAND] [INDEX]
            Where: 	ACTION := reclassify | drop | continue | pass | pipe |
                    	          goto chain <CHAIN_INDEX> | jump <JUMP_COUNT>""";
    static final String GACT_USAGE = ACTION_USAGE;
    static final String MIRRED_USAGE = """
            Usage: mirred <DIRECTION> <ACTION> [index INDEX] <dev DEVICENAME>
            where:
            	DIRECTION := <ingress | egress>
            	ACTION := <mirror | redirect>
            	INDEX  is the specific policy instance id
            	DEVICENAME is the devicename""";
    static final String POLICE_USAGE = """
            Usage: ... police [ rate BPS burst BYTES[/BYTES] ] [ mtu BYTES[/BYTES] ]
            		[ peakrate BPS ] [ avrate BPS ] [ overhead BYTES ]
            		[ linklayer TYPE ] [ CONTROL ]
            Where: CONTROL := conform-exceed <EXCEEDACT>[/NOTEXCEEDACT]
            		  Define how to handle packets which exceed (<EXCEEDACT>)
            		  or conform (<NOTEXCEEDACT>) the configured bandwidth limit.
                   EXCEEDACT/NOTEXCEEDACT := { pipe | ok | reclassify | drop | continue |
            				   goto chain <CHAIN_INDEX> }""";

    /** {@code parse_action_control}'s {@code goto chain N}, after the word {@code goto}. */
    static int gotoChain(TcFilterArgs a) {
        if (!a.more() || !"chain".equals(a.next())) {
            throw new CommandException("Bad action type goto", 1);
        }
        String v = a.value();
        Integer n = TcUtil.parseU32(v);
        if (n == null) {
            throw new CommandException("Illegal \"chain index\"", 1);
        }
        if (Integer.compareUnsigned(n, TcFilterBlock.MAX_CHAIN) > 0) {
            throw TcFilterApi.kernel("Specified chain index exceeds upper limit");
        }
        return TcAction.TC_ACT_GOTO_CHAIN | n;
    }

    private TcAction gact(int verdict, TcFilterArgs a) {
        int index = optionalIndex(a);
        return new ActGact(index, verdict);
    }

    /** {@code index N} after an action's words, or 0 (then {@link #commit} gives the lowest free, as {@code idr_alloc_u32}). */
    private static int optionalIndex(TcFilterArgs a) {
        if ("index".equals(a.peek())) {
            a.next();
            Integer v = TcUtil.parseU32(a.value());
            if (v == null || v == 0) {
                throw TcUtil.illegal("index");
            }
            return v;
        }
        return 0;
    }

    /** {@code parse_direction} of {@code m_mirred.c}: {@code egress|ingress redirect|mirror dev X [index N] [CONTROL]}. */
    private TcAction mirred(NetNamespace ns, TcFilterArgs a) {
        Boolean egress = null;
        Boolean redirect = null;
        NetDevice dev = null;
        int index = 0;
        int verdict = TcHook.TC_ACT_PIPE; // a mirror's default; a redirect's is stolen
        while (a.more() && !atAction(a)) {
            String w = a.next();
            switch (w) {
                case "egress", "ingress" -> {
                    if (egress != null) {
                        throw new CommandException("Illegal \"" + w + "\"\n" + MIRRED_USAGE, 1);
                    }
                    egress = w.equals("egress");
                }
                case "redirect", "mirror" -> {
                    if (egress == null || redirect != null) {
                        throw new CommandException("Illegal \"" + w + "\"\n" + MIRRED_USAGE, 1);
                    }
                    redirect = w.equals("redirect");
                }
                case "dev" -> {
                    String name = a.value();
                    dev = ns.device(name);
                    if (dev == null) {
                        throw new CommandException("Cannot find device \"" + name + "\"", 1);
                    }
                }
                case "index" -> {
                    a.back();
                    index = optionalIndex(a);
                }
                default -> {
                    Integer v = TcAction.verdict(w);
                    if (v == null || dev == null) {
                        a.back();
                        if (dev == null) {
                            throw new CommandException("bad action type " + w + "\n" + MIRRED_USAGE, 1);
                        }
                        return newMirred(index, dev, egress, redirect, verdict);
                    }
                    verdict = v;
                    return newMirred(index, dev, egress, redirect, verdict);
                }
            }
        }
        if (egress == null || redirect == null || dev == null) {
            throw new CommandException("Command line is not complete. Try option \"help\"\n" + MIRRED_USAGE, 1);
        }
        return newMirred(index, dev, egress, redirect, verdict);
    }

    private TcAction newMirred(int index, NetDevice dev, Boolean egress, Boolean redirect, int verdict) {
        if (egress == null || redirect == null) {
            throw new CommandException("Command line is not complete. Try option \"help\"\n" + MIRRED_USAGE, 1);
        }
        return new ActMirred(index, core, dev, egress, redirect, verdict);
    }

    /** {@code act_parse_police}: {@code rate R burst B [mtu M] [conform-exceed EXCEED[/CONFORM]] [CONTROL] [index N]}. */
    private TcAction police(NetNamespace ns, TcFilterArgs a) {
        Long rate = null;
        Long burst = null;
        long mtu = 0;
        int exceed = TcHook.TC_ACT_RECLASSIFY;
        int conform = TcHook.TC_ACT_OK;
        int index = 0;
        loop:
        while (a.more() && !atAction(a)) {
            String w = a.next();
            switch (w) {
                case "rate" -> {
                    rate = TcUtil.parseRate(a.value());
                    if (rate == null || rate == 0) {
                        throw TcUtil.illegal("rate");
                    }
                }
                case "burst", "buffer", "maxburst" -> {
                    burst = TcUtil.parseSize(a.value());
                    if (burst == null || burst == 0) {
                        throw TcUtil.illegal("burst");
                    }
                }
                case "mtu", "minburst" -> {
                    Long m = TcUtil.parseSize(a.value());
                    if (m == null) {
                        throw TcUtil.illegal("mtu");
                    }
                    mtu = m;
                }
                case "conform-exceed" -> {
                    String v = a.value();
                    String[] parts = v.split("/", 2);
                    // parse_action_control_slash: "goto chain N" as the exceed verdict alone, or after the slash
                    Integer e = parts[0].equals("goto") && parts.length == 1 ? Integer.valueOf(gotoChain(a)) : TcAction.verdict(parts[0]);
                    Integer c = parts.length == 1 ? Integer.valueOf(conform)
                            : parts[1].equals("goto") ? Integer.valueOf(gotoChain(a)) : TcAction.verdict(parts[1]);
                    if (e == null || c == null) {
                        throw new CommandException("Illegal \"action\"\n" + POLICE_USAGE, 1);
                    }
                    exceed = e;
                    conform = c;
                }
                case "index" -> {
                    a.back();
                    index = optionalIndex(a);
                }
                default -> {
                    Integer v = TcAction.verdict(w);
                    if (v == null) {
                        a.back();
                        break loop;
                    }
                    exceed = v;
                }
            }
        }
        if (rate == null && burst == null && index != 0) { // "police index N": the shared one
            TcAction there = find(ns, "police", index);
            if (there != null) {
                return there;
            }
        }
        if (burst != null && rate == null) {
            throw new CommandException("\"burst\" requires \"rate\".", 1);
        }
        if (rate == null) {
            throw new CommandException("Error: Police requires rate.\nWe have an error talking to the kernel", 2);
        }
        if (burst == null) {
            throw new CommandException("burst requires rate.\n" + POLICE_USAGE, 1);
        }
        return new ActPolice(index, rate, burst, mtu != 0 ? mtu : POLICE_DEFAULT_MTU,
                exceed, conform, core::nanoTime);
    }

    static final String ACTIONS_USAGE = """
            usage: tc actions <ACTSPECOP>*
            Where: 	ACTSPECOP := ACR | GD | FL
            	ACR := add | change | replace <ACTSPEC>*
            	GD := get | delete | <ACTISPEC>*
            	FL := ls | list | flush | <ACTNAMESPEC>
            	ACTNAMESPEC :=  action <ACTNAME>
            	ACTISPEC := ACTNAMESPEC <INDEXSPEC>
            	ACTSPEC := action <ACTDETAIL> [INDEXSPEC]
            	INDEXSPEC := index <32 bit indexvalue>
            	ACTDETAIL := <ACTNAME> <ACTPARAMS>
            		Example ACTNAME is gact, mirred, police etc
            		Each action has its own parameters (ACTPARAMS)""";

    /**
     * {@code tc actions add|get|del|ls|flush ...}: actions by index, shared between filters
     * ({@code tc_ctl_action}, {@code tc_dump_action} with iproute2's {@code m_action.c}). An action a
     * filter holds cannot be deleted; one {@code tc actions add} made stays until deleted.
     */
    List<String> actions(NetNamespace ns, List<String> w, boolean stats) {
        String cmd = w.isEmpty() ? "ls" : w.remove(0);
        TcFilterArgs a = new TcFilterArgs(w);
        switch (cmd) {
            case "add", "change", "replace" -> {
                if (!atAction(a)) {
                    throw new CommandException(ACTIONS_USAGE, 255);
                }
                // iproute2 sends add with NLM_F_EXCL, change and replace with NLM_F_REPLACE: an action
                // there takes the new parameters in place (tcf_idr_check_alloc with ovr), so the filters
                // bound to it act by them on the next frame
                boolean replace = !cmd.equals("add");
                List<TcAction> acts;
                keepFresh = replace;
                try {
                    acts = parse(ns, a);
                } finally {
                    keepFresh = false;
                }
                if (a.more()) {
                    throw new CommandException("bad action type " + a.next() + "\n" + ACTION_USAGE, 1);
                }
                List<TcAction> made = new ArrayList<>();
                synchronized (LOCK) {
                    for (TcAction x : acts) {
                        if (!replace && x.table != null) {
                            throw TcFilterApi.answers("File exists"); // before anything changed
                        }
                    }
                    for (TcAction x : acts) {
                        TcAction there = x.table != null ? x : x.index == 0 ? null : table(ns, x.kind()).get(x.index);
                        if (there == null) {
                            made.add(x);
                        } else if (there != x) {
                            there.replaceWith(x);
                        }
                    }
                }
                commit(ns, made.toArray(TcAction[]::new), false);
                return List.of();
            }
            case "get", "delete", "del", "ls", "list", "show", "flush" -> {
            }
            case "help" -> throw new CommandException(ACTIONS_USAGE, 255);
            default -> throw new CommandException("Command \"" + cmd + "\" is unknown, try \"tc actions help\".", 255);
        }
        if (!atAction(a)) {
            throw new CommandException(ACTIONS_USAGE, 255);
        }
        a.next();
        String kind = a.value();
        if (!kind.equals("gact") && !kind.equals("mirred") && !kind.equals("police")) {
            throw new CommandException("bad action type " + kind + "\n" + ACTION_USAGE, 1);
        }
        List<String> out = new ArrayList<>();
        synchronized (LOCK) {
            java.util.TreeMap<Integer, TcAction> t = table(ns, kind);
            switch (cmd) {
                case "ls", "list", "show" -> {
                    out.add("total acts " + t.size());
                    out.add("");
                    print(out, t.values().toArray(TcAction[]::new), stats, 0);
                }
                case "flush" -> {
                    for (TcAction x : new ArrayList<>(t.values())) {
                        if (x.bindcnt == 0) { // what a filter holds stays, as tcf_del_walker refuses it
                            release(x, false);
                        }
                    }
                }
                default -> {
                    if (!"index".equals(a.peek())) {
                        throw TcFilterApi.kernel("Invalid TC action index value");
                    }
                    int index = optionalIndex(a);
                    TcAction x = t.get(index);
                    if (x == null) {
                        throw TcFilterApi.kernel("TC action with specified index not found");
                    }
                    if (cmd.equals("get")) {
                        out.add("total acts 0");
                        out.add("");
                        print(out, new TcAction[] { x }, stats, 1);
                    } else if (x.bindcnt > 0) {
                        throw TcFilterApi.kernel("Failed to delete TC action");
                    } else {
                        release(x, false);
                    }
                }
            }
        }
        return out;
    }

    /** The action lines of {@code tc [-s] filter show}: {@code action order N: ...}, with statistics when asked. */
    static void print(List<String> out, TcAction[] actions, boolean stats) {
        print(out, actions, stats, 1);
    }

    /** As above, numbered from {@code first} ({@code tc actions ls} counts from 0, as its dump nests them). */
    static void print(List<String> out, TcAction[] actions, boolean stats, int first) {
        for (int i = 0; i < actions.length; i++) {
            List<String> d = actions[i].describe();
            out.add("\taction order " + (i + first) + ": " + d.get(0));
            for (int j = 1; j < d.size(); j++) {
                out.add(d.get(j));
            }
            if (stats) {
                out.add("\tAction statistics:");
                actions[i].stats.print(out, "\t");
            }
            out.add("");
        }
    }
}
