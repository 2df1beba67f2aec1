package org.modnet.sched;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

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
    private final Map<String, AtomicInteger> indices = new ConcurrentHashMap<>();

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

    private int nextIndex(String kind) {
        return indices.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
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
                out.add(gact(gotoChain(a), a));
                continue;
            }
            Integer control = TcAction.verdict(kind);
            if (control != null) { // "action drop": gact by its control word
                out.add(gact(control, a));
                continue;
            }
            switch (kind) {
                case "gact" -> {
                    Integer v = TcAction.verdict(a.value());
                    if (v == null) {
                        a.back();
                        throw new CommandException("bad action type " + a.next() + "\n" + GACT_USAGE, 1);
                    }
                    out.add(gact(v, a));
                }
                case "mirred" -> out.add(mirred(ns, a));
                case "police" -> out.add(police(a));
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
        return new ActGact(index != 0 ? index : nextIndex("gact"), verdict);
    }

    /** {@code index N} after an action's words, or 0. */
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
        return new ActMirred(index != 0 ? index : nextIndex("mirred"), core, dev, egress, redirect, verdict);
    }

    /** {@code act_parse_police}: {@code rate R burst B [mtu M] [conform-exceed EXCEED[/CONFORM]] [CONTROL] [index N]}. */
    private TcAction police(TcFilterArgs a) {
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
                    Integer e = TcAction.verdict(parts[0]);
                    Integer c = parts.length > 1 ? TcAction.verdict(parts[1]) : Integer.valueOf(conform);
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
        if (burst != null && rate == null) {
            throw new CommandException("\"burst\" requires \"rate\".", 1);
        }
        if (rate == null) {
            throw new CommandException("Error: Police requires rate.\nWe have an error talking to the kernel", 2);
        }
        if (burst == null) {
            throw new CommandException("burst requires rate.\n" + POLICE_USAGE, 1);
        }
        return new ActPolice(index != 0 ? index : nextIndex("police"), rate, burst, mtu != 0 ? mtu : POLICE_DEFAULT_MTU,
                exceed, conform, core::nanoTime);
    }

    /** The action lines of {@code tc [-s] filter show}: {@code action order N: ...}, with statistics when asked. */
    static void print(List<String> out, TcAction[] actions, boolean stats) {
        for (int i = 0; i < actions.length; i++) {
            List<String> d = actions[i].describe();
            out.add("\taction order " + (i + 1) + ": " + d.get(0));
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
