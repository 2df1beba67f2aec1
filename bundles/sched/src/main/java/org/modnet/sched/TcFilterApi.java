package org.modnet.sched;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;

/**
 * {@code tc filter add|replace|change|del|show dev DEV [ingress|egress|parent H] [pref N] [handle H]
 * [protocol P] KIND ARGS}: the filter side of rtnetlink ({@code net/sched/cls_api.c}:
 * {@code tc_new_tfilter}, {@code tc_del_tfilter}, {@code tc_dump_tfilter}) with iproute2's
 * {@code tc_filter.c} and each kind's {@code f_*.c} parser. Errors are the kernel's extack words
 * followed by tc's "We have an error talking to the kernel", status 2; words tc itself cannot read
 * are tc's, status 1. A refused command changes nothing: everything is read before anything changes.
 */
final class TcFilterApi {
    static final String USAGE = """
            Usage: tc filter [ add | del | change | replace | show ] [ dev STRING ]
                   tc filter [ add | del | change | replace | show ] [ block BLOCK_INDEX ]
                   tc filter get dev STRING parent CLASSID protocol PROTO handle FILTERID pref PRIO FILTER_TYPE
                   tc filter get block BLOCK_INDEX protocol PROTO handle FILTERID pref PRIO FILTER_TYPE
                   [ pref PRIO ] protocol PROTO [ chain CHAIN_INDEX ]
                   [ estimator INTERVAL TIME_CONSTANT ]
                   [ root | ingress | egress | parent CLASSID ]
                   [ handle FILTERID ] [ [ FILTER_TYPE ] [ help | OPTIONS ] ]

                   tc filter show [ dev STRING ] [ root | ingress | egress | parent CLASSID ]
                   tc filter show [ block BLOCK_INDEX ]
            Where:
            FILTER_TYPE := { u32 | bpf | fw | route | etc. }
            FILTERID := ... format depends on classifier, see there
            OPTIONS := ... try tc filter add <desired FILTER_KIND> help""";
    static final String U32_USAGE = """
            Usage: ... u32 [ match SELECTOR ... ] [ link HTID ] [ classid CLASSID ]
                           [ action ACTION_SPEC ] [ offset OFFSET_SPEC ]
                           [ ht HTID ] [ hashkey HASHKEY_SPEC ]
                           [ sample SAMPLE ] [skip_hw | skip_sw]
            or         u32 divisor DIVISOR

            Where: SELECTOR := SAMPLE SAMPLE ...
                   SAMPLE := { ip | ip6 | udp | tcp | icmp | u{32|16|8} | mark }
                             SAMPLE_ARGS [ divisor DIVISOR ]
                   FILTERID := X:Y:Z

            NOTE: CLASSID is parsed at hexadecimal input.""";
    static final String FLOWER_USAGE = """
            Usage: ... flower [ MATCH-LIST ] [ verbose ]
                              [ skip_sw | skip_hw ]
                              [ action ACTION-SPEC ] [ classid CLASSID ]
                   MATCH-LIST := [ MATCH-LIST ] MATCH
                   MATCH      := {  indev DEV-NAME |
                                    dst_mac MASKED-LLADDR |
                                    src_mac MASKED-LLADDR |
                                    ip_proto [tcp | udp | sctp | icmp | icmpv6 | IP-PROTO ] |
                                    { dst_ip | src_ip } PREFIX |
                                    { dst_port | src_port } { port_number | min_port_number-max_port_number } }
                   FILTERID := X:Y:Z
                   MASKED_LLADDR := { LLADDR | LLADDR/MASK | LLADDR/BITS }
                   ACTION-SPEC := ... look at individual actions

            NOTE: CLASSID, IP-PROTO are parsed as hexadecimal input.""";

    private final ClsActApi clsact;
    /** The root qdisc's filter block a parent names (SchApi.filterBlock), and the root's handle. */
    private final java.util.function.BiFunction<NetDevice, Integer, TcFilterBlock> rootBlock;
    private final java.util.function.ToIntFunction<NetDevice> rootHandle;
    private final ActApi actions;
    private final java.util.function.Supplier<ClsBpfLoader> bpf;

    TcFilterApi(NetCore core, ClsActApi clsact, java.util.function.Supplier<ClsBpfLoader> bpf,
            java.util.function.BiFunction<NetDevice, Integer, TcFilterBlock> rootBlock, java.util.function.ToIntFunction<NetDevice> rootHandle) {
        this.rootBlock = rootBlock;
        this.rootHandle = rootHandle;
        this.clsact = clsact;
        this.actions = new ActApi(core);
        this.bpf = bpf;
    }

    static CommandException kernel(String extack) {
        String m = extack.endsWith(".") ? extack : extack + "."; // iproute2 ends an extack message with a period
        return new CommandException("Error: " + m + "\nWe have an error talking to the kernel", 2);
    }

    static CommandException answers(String errno) {
        return new CommandException("RTNETLINK answers: " + errno + "\nWe have an error talking to the kernel", 2);
    }

    /** {@code tc filter ...} after the word {@code filter}. */
    List<String> run(NetNamespace ns, List<String> w, boolean stats) {
        String cmd = w.isEmpty() ? "show" : w.remove(0);
        return switch (cmd) {
            case "add", "replace", "change", "del", "delete" -> {
                modify(ns, cmd, w);
                yield List.of();
            }
            case "show", "list", "ls", "lst" -> show(ns, w, stats);
            case "help" -> throw new CommandException(USAGE, 255);
            default -> throw new CommandException("Command \"" + cmd + "\" is unknown, try \"tc filter help\".", 1);
        };
    }

    /** {@code tc actions ...} after the word {@code actions}. */
    synchronized List<String> actions(NetNamespace ns, List<String> w, boolean stats) {
        return actions.actions(ns, w, stats);
    }

    static final String CHAIN_USAGE = """
            Usage: tc chain [ add | del | get | show ] [ dev STRING ]
                   tc chain [ add | del | get | show ] [ block BLOCK_INDEX ] """;

    /**
     * {@code tc chain add|del|get|show dev DEV [ingress|egress|parent H] [chain N]}: {@code tc_ctl_chain}
     * and {@code tc_dump_chain} with iproute2's {@code tc_chain}. A chain lists while it holds filters
     * or was added; {@code del} takes its filters with it.
     */
    synchronized List<String> chain(NetNamespace ns, List<String> w) {
        String cmd = w.isEmpty() ? "show" : w.remove(0);
        switch (cmd) {
            case "add", "del", "delete", "get", "show", "list", "ls", "lst" -> {
            }
            case "help" -> throw new CommandException(CHAIN_USAGE, 255);
            default -> throw new CommandException("Command \"" + cmd + "\" is unknown, try \"tc chain help\".", 255);
        }
        Head h = head(ns, w, true);
        boolean show = cmd.startsWith("l") || cmd.equals("show");
        String parentWord = "chain parent ";
        TcFilterBlock block;
        if (!h.parentGiven || (h.parent & 0xffff0000) != ClsAct.HANDLE) {
            int root = rootHandle.applyAsInt(h.dev);
            if (show && (root == 0 || h.parentGiven && h.parent != SchApi.ROOT && (h.parent & 0xffff0000) != root)) {
                return List.of();
            }
            block = show ? rootBlock.apply(h.dev, root) : block(h);
            parentWord += TcUtil.handle(root) + " ";
        } else {
            ClsAct q = clsact.get(h.dev);
            block = q == null ? null : q.block(h.parent);
            if (block == null) {
                if (show) {
                    return List.of();
                }
                block(h); // the kernel's words for a parent that is not there
                throw answers("Invalid argument");
            }
            parentWord += TcUtil.handle(ClsAct.HANDLE) + " ";
        }
        List<String> out = new ArrayList<>();
        switch (cmd) {
            case "add" -> {
                if (!block.addChain(h.chain)) {
                    throw kernel("Filter chain already exists");
                }
            }
            case "del", "delete" -> {
                if (!block.deleteChain(h.chain)) {
                    throw kernel("Cannot find specified filter chain");
                }
            }
            case "get" -> {
                if (block.chain(h.chain) == null) {
                    throw kernel("Cannot find specified filter chain");
                }
                out.add(parentWord + "chain " + Integer.toUnsignedString(h.chain) + " ");
            }
            default -> {
                for (TcFilterBlock.Chain c : block.chains()) {
                    if (!h.chainGiven) {
                        out.add(parentWord + "chain " + Integer.toUnsignedString(c.index) + " ");
                    } else if (c.index == h.chain) {
                        out.add(parentWord); // tc leaves out the chain it was asked for
                    }
                }
            }
        }
        return out;
    }

    /** What tc's words before the kind say. */
    private static final class Head {
        NetDevice dev;
        int parent;
        boolean parentGiven;
        int pref;
        Integer protocol;
        String handle;
        /** {@code chain N}: the chain (0 when none was given). */
        int chain;
        boolean chainGiven;
        String kind;
        List<String> rest = List.of();
    }

    private static Head head(NetNamespace ns, List<String> w, boolean show) {
        Head h = new Head();
        for (int i = 0; i < w.size(); i++) {
            String k = w.get(i);
            switch (k) {
                case "dev" -> {
                    String name = need(w, ++i);
                    h.dev = ns.device(name);
                    if (h.dev == null) {
                        throw new CommandException("Cannot find device \"" + name + "\"", 1);
                    }
                }
                case "root", "ingress", "egress", "parent" -> {
                    if (h.parentGiven) {
                        throw new CommandException("Error: \"" + k + "\" is duplicate parent ID", 255);
                    }
                    h.parentGiven = true;
                    h.parent = switch (k) {
                        case "root" -> SchApi.ROOT;
                        case "ingress" -> ClsAct.INGRESS;
                        case "egress" -> ClsAct.EGRESS;
                        default -> {
                            String v = need(w, ++i);
                            int p = TcUtil.parseClassid(v);
                            if (p == -1 && !v.equals("ffff:ffff")) {
                                throw new CommandException("Invalid parent ID \"" + v + "\"", 1);
                            }
                            yield p;
                        }
                    };
                }
                case "pref", "priority", "prio" -> {
                    Integer v = TcUtil.parseU32(need(w, ++i));
                    if (v == null || v > 0xffff) {
                        throw TcUtil.illegal("priority");
                    }
                    h.pref = v;
                }
                case "protocol" -> {
                    Integer p = protocol(need(w, ++i));
                    if (p == null) {
                        throw TcUtil.illegal("protocol");
                    }
                    h.protocol = p;
                }
                case "handle" -> h.handle = need(w, ++i);
                case "chain" -> {
                    h.chain = chainIndex(need(w, ++i));
                    h.chainGiven = true;
                }
                default -> {
                    if (show) {
                        throw new CommandException("What is \"" + k + "\"? Try \"tc filter help\"", 1);
                    }
                    h.kind = k;
                    h.rest = List.copyOf(w.subList(i + 1, w.size()));
                    i = w.size();
                }
            }
        }
        if (h.dev == null) {
            throw new CommandException("Cannot find device \"\"", 1);
        }
        return h;
    }

    /** tc's {@code get_u32} of a chain index, then the kernel's upper limit. */
    static int chainIndex(String v) {
        Integer n = TcUtil.parseU32(v);
        if (n == null) {
            throw new CommandException("Error: argument \"" + v + "\" is wrong: invalid chain index value", 255);
        }
        if (Integer.compareUnsigned(n, TcFilterBlock.MAX_CHAIN) > 0) {
            throw kernel("Specified chain index exceeds upper limit");
        }
        return n;
    }

    private static String need(List<String> w, int i) {
        if (i >= w.size()) {
            throw new CommandException("Command line is not complete. Try option \"help\"", 1);
        }
        return w.get(i);
    }

    /** {@code ll_proto_a2n}. */
    static Integer protocol(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "all" -> Eth.ETH_P_ALL;
            case "ip" -> Eth.ETH_P_IP;
            case "arp" -> Eth.ETH_P_ARP;
            case "ipv6" -> Eth.ETH_P_IPV6;
            case "802.1q", "vlan" -> Eth.ETH_P_8021Q;
            default -> {
                Integer v = TcUtil.parseU32(s);
                yield v == null || v > 0xffff ? null : v;
            }
        };
    }

    /** {@code ll_proto_n2a}. */
    static String protocolName(int p) {
        return switch (p) {
            case Eth.ETH_P_ALL -> "all";
            case Eth.ETH_P_IP -> "ip";
            case Eth.ETH_P_ARP -> "arp";
            case Eth.ETH_P_IPV6 -> "ipv6";
            case Eth.ETH_P_8021Q -> "802.1Q";
            default -> String.format("[%04x]", p);
        };
    }

    /** The filter block a parent names on the device, or the kernel's error. */
    private TcFilterBlock block(Head h) {
        if (!h.parentGiven || h.parent == SchApi.ROOT || (h.parent & 0xffff0000) != ClsAct.HANDLE) {
            return rootBlock.apply(h.dev, h.parentGiven ? h.parent : 0); // a classful root qdisc's filters
        }
        ClsAct q = clsact.get(h.dev);
        if (q == null) {
            throw kernel("Parent Qdisc doesn't exists");
        }
        TcFilterBlock b = q.block(h.parent);
        if (b == null) {
            throw answers("Invalid argument");
        }
        return b;
    }

    private synchronized void modify(NetNamespace ns, String cmd, List<String> w) {
        Head h = head(ns, w, false);
        TcFilterBlock block = block(h);
        if (cmd.equals("del") || cmd.equals("delete")) {
            delete(block, h);
            return;
        }
        if (h.kind == null) {
            throw kernel("Filter kind and protocol must be specified");
        }
        int protocol = h.protocol != null ? h.protocol : Eth.ETH_P_ALL;
        TcFilterProto tp = h.pref != 0 ? block.find(h.chain, h.pref) : null;
        if (tp != null) {
            if (!tp.kind.equals(h.kind)) {
                throw kernel("Specified filter kind does not match existing one, use a different priority");
            }
            if (h.protocol != null && tp.protocol != protocol) {
                throw answers("Invalid argument");
            }
        } else if (cmd.equals("change")) {
            throw kernel("Filter with specified priority/protocol not found");
        }
        int pref = h.pref != 0 ? h.pref : block.autoPref(h.chain);
        int handle = parseHandle(h.kind, h.handle);
        TcFilter old = tp != null && handle != 0 ? tp.find(handle) : null;
        if (old != null && cmd.equals("add")) {
            throw answers("File exists");
        }
        if (old == null && cmd.equals("change")) {
            throw kernel("Specified filter handle not found");
        }
        if (tp != null && h.kind.equals("matchall") && old == null && tp.filters.length > 0) {
            throw answers("File exists"); // mall_change: one filter per instance
        }
        int newHandle = handle != 0 ? handle : tp != null ? tp.nextHandle : h.kind.equals("u32") ? 0x800 : 1;
        TcFilter f = parse(ns, h, protocol, newHandle);
        actions.commit(ns, f.actions, true);
        if (tp == null) {
            tp = new TcFilterProto(pref, protocol, h.kind);
            tp.put(f);
            block.insert(h.chain, tp);
        } else {
            TcFilter was = tp.put(f);
            if (was != null) {
                was.destroy();
            }
        }
    }

    /** A filter handle as its kind reads it: u32 {@code 800::801} (the node id), others a number; 0 when none was given. */
    private static int parseHandle(String kind, String s) {
        if (s == null) {
            return 0;
        }
        if (kind.equals("u32")) {
            String[] parts = s.split(":", -1);
            try {
                if (parts.length == 3 && (parts[0].isEmpty() || parts[0].equals("800")) && parts[1].isEmpty() | parts[1].equals("0")) {
                    int node = Integer.parseInt(parts[2], 16);
                    if (node > 0 && node <= 0xfff) {
                        return node;
                    }
                }
            } catch (NumberFormatException e) {
                // falls through to tc's word
            }
            throw new CommandException("Illegal \"handle\"", 1);
        }
        Integer v = TcUtil.parseU32(s);
        if (v == null || v == 0) {
            throw new CommandException("Illegal \"handle\"", 1);
        }
        return v;
    }

    private void delete(TcFilterBlock block, Head h) {
        if (h.pref == 0) {
            if (h.handle != null || h.kind != null || h.protocol != null) {
                throw kernel("Cannot flush filters with protocol, handle or kind set");
            }
            if (h.chainGiven && block.chain(h.chain) == null) {
                throw kernel("Cannot find specified filter chain");
            }
            block.flush(h.chain); // tc_del_tfilter without a preference: the one chain (0 unless named)
            return;
        }
        TcFilterProto tp = block.find(h.chain, h.pref);
        if (tp == null || (h.protocol != null && h.protocol != tp.protocol)) {
            throw kernel("Filter with specified priority/protocol not found");
        }
        if (h.kind != null && !h.kind.equals(tp.kind)) {
            throw kernel("Specified filter kind does not match existing one, use a different priority");
        }
        if (h.handle == null) {
            block.remove(h.chain, tp);
            return;
        }
        TcFilter f = tp.find(parseHandle(tp.kind, h.handle));
        if (f == null) {
            throw kernel("Specified filter handle not found");
        }
        tp.remove(f);
        f.destroy();
        if (tp.filters.length == 0) {
            block.remove(h.chain, tp);
        }
    }

    /** The kind's own words ({@code q->parse_fopt}). */
    private TcFilter parse(NetNamespace ns, Head h, int protocol, int handle) {
        TcFilterArgs a = new TcFilterArgs(h.rest);
        return switch (h.kind) {
            case "matchall" -> matchall(ns, a, handle);
            case "u32" -> u32(ns, a, handle);
            case "flower" -> flower(ns, a, protocol, handle);
            case "bpf" -> {
                ClsBpfLoader loader = bpf.get();
                if (loader == null) {
                    throw kernel("TC classifier not found"); // cls_bpf needs the eBPF layer
                }
                yield loader.parse(ns, a, handle, actions);
            }
            default -> throw new CommandException("Unknown filter \"" + h.kind + "\", hence option \""
                    + (h.rest.isEmpty() ? "" : h.rest.get(0)) + "\" is unparsable", 1);
        };
    }

    private static int classid(String v) {
        int c = TcUtil.parseClassid(v);
        if (c == -1 || c == -2) {
            throw TcUtil.illegal("classid");
        }
        return c;
    }

    private TcFilter matchall(NetNamespace ns, TcFilterArgs a, int handle) {
        int classid = 0;
        boolean skipHw = false;
        List<TcAction> acts = new ArrayList<>();
        while (a.more()) {
            if (ActApi.atAction(a)) {
                acts.addAll(actions.parse(ns, a));
                continue;
            }
            String w = a.next();
            switch (w) {
                case "classid", "flowid" -> classid = classid(a.value());
                case "skip_hw" -> skipHw = true;
                case "skip_sw" -> throw answers("Operation not supported"); // no hardware to run it
                case "help" -> throw new CommandException(ClsMatchall.USAGE, 255);
                default -> throw new CommandException("What is \"" + w + "\"?\n" + ClsMatchall.USAGE, 1);
            }
        }
        return new TcFilter(handle, classid, new ClsMatchall(skipHw), acts);
    }

    // --- u32 (f_u32.c) ---

    private TcFilter u32(NetNamespace ns, TcFilterArgs a, int node) {
        List<ClsU32.Key> keys = new ArrayList<>();
        int classid = 0;
        boolean terminal = false;
        List<TcAction> acts = new ArrayList<>();
        while (a.more()) {
            if (ActApi.atAction(a)) {
                acts.addAll(actions.parse(ns, a));
                terminal = true;
                continue;
            }
            String w = a.next();
            switch (w) {
                case "match" -> selector(a, keys);
                case "classid", "flowid" -> {
                    classid = classid(a.value());
                    terminal = true;
                }
                case "skip_hw" -> {
                }
                case "skip_sw" -> throw answers("Operation not supported");
                case "help" -> throw new CommandException(U32_USAGE, 255);
                default -> throw new CommandException("What is \"" + w + "\"?\n" + U32_USAGE, 1);
            }
        }
        return new TcFilter(node, classid, new ClsU32(keys, node, classid, terminal), acts);
    }

    private static CommandException badMatch() {
        return new CommandException("Illegal \"match\"", 1);
    }

    /** {@code parse_selector}: one {@code match ...}. */
    private static void selector(TcFilterArgs a, List<ClsU32.Key> keys) {
        if (!a.more()) {
            throw badMatch();
        }
        String sel = a.next();
        switch (sel) {
            case "u32", "u16", "u8" -> {
                long v = number(a.value(), 0);
                long m = number(a.value(), 16);
                int off = 0;
                boolean nexthdr = false;
                if ("at".equals(a.peek())) {
                    a.next();
                    String at = a.value();
                    if (at.startsWith("nexthdr+")) {
                        nexthdr = true;
                        at = at.substring("nexthdr+".length());
                    }
                    off = (int) number(at, 0);
                }
                switch (sel) {
                    case "u32" -> pack(keys, v, m, off, nexthdr);
                    case "u16" -> pack16(keys, v, m, off, nexthdr);
                    default -> pack8(keys, v, m, off, nexthdr);
                }
            }
            case "ip" -> ipSelector(a, keys);
            case "tcp", "udp" -> { // nexthdr+ offsets, as f_u32.c gives them
                String f = a.value();
                int off = switch (f) {
                    case "src" -> 0;
                    case "dst" -> 2;
                    default -> throw badMatch();
                };
                pack16(keys, number(a.value(), 0), number(a.value(), 16), off, true);
            }
            case "icmp" -> {
                String f = a.value();
                int off = switch (f) {
                    case "type" -> 0;
                    case "code" -> 1;
                    default -> throw badMatch();
                };
                pack8(keys, number(a.value(), 0), number(a.value(), 16), off, true);
            }
            default -> throw badMatch();
        }
    }

    private static void ipSelector(TcFilterArgs a, List<ClsU32.Key> keys) {
        String f = a.value();
        switch (f) {
            case "src", "dst" -> {
                String v = a.value();
                int off = f.equals("src") ? 12 : 16;
                if (v.equals("default") || v.equals("any") || v.equals("all")) {
                    pack(keys, 0, 0, off, false);
                    return;
                }
                int slash = v.indexOf('/');
                int len = 32;
                if (slash >= 0) {
                    Integer l = TcUtil.parseU32(v.substring(slash + 1));
                    if (l == null || l > 32) {
                        throw badMatch();
                    }
                    len = l;
                    v = v.substring(0, slash);
                }
                Integer addr = ipv4(v);
                if (addr == null) {
                    throw badMatch();
                }
                int mask = len == 0 ? 0 : -1 << (32 - len);
                pack(keys, addr & 0xffff_ffffL, mask & 0xffff_ffffL, off, false);
            }
            case "protocol" -> pack8(keys, number(a.value(), 0), number(a.value(), 16), 9, false);
            case "tos", "dsfield" -> pack8(keys, number(a.value(), 0), number(a.value(), 16), 1, false);
            case "sport" -> pack16(keys, number(a.value(), 0), number(a.value(), 16), 20, false);
            case "dport" -> pack16(keys, number(a.value(), 0), number(a.value(), 16), 22, false);
            case "icmp_type" -> pack8(keys, number(a.value(), 0), number(a.value(), 16), 20, false);
            case "icmp_code" -> pack8(keys, number(a.value(), 0), number(a.value(), 16), 21, false);
            default -> throw badMatch();
        }
    }

    private static long number(String s, int radix) {
        try {
            long v;
            if (radix == 16) {
                v = Long.parseLong(s.startsWith("0x") || s.startsWith("0X") ? s.substring(2) : s, 16);
            } else {
                v = Long.decode(s);
            }
            if (v < 0 || v > 0xffff_ffffL) {
                throw badMatch();
            }
            return v;
        } catch (NumberFormatException e) {
            throw badMatch();
        }
    }

    /** {@code pack_key}: a key at the same offset as one before is merged into it, if they agree where both look. */
    private static void pack(List<ClsU32.Key> keys, long key, long mask, int off, boolean nexthdr) {
        int v = (int) (key & mask);
        int m = (int) mask;
        if (off % 4 != 0) {
            throw badMatch();
        }
        for (int i = 0; i < keys.size(); i++) {
            ClsU32.Key k = keys.get(i);
            if (k.off() == off && k.nexthdr() == nexthdr) {
                int both = m & k.mask();
                if (((v ^ k.val()) & both) != 0) {
                    throw badMatch();
                }
                keys.set(i, new ClsU32.Key(k.val() | v, k.mask() | m, off, nexthdr));
                return;
            }
        }
        if (keys.size() >= 128) {
            throw badMatch();
        }
        keys.add(new ClsU32.Key(v, m, off, nexthdr));
    }

    private static void pack16(List<ClsU32.Key> keys, long key, long mask, int off, boolean nexthdr) {
        if (key > 0xffff || mask > 0xffff) {
            throw badMatch();
        }
        if ((off & 3) == 0) {
            key <<= 16;
            mask <<= 16;
        }
        pack(keys, key, mask, off & ~3, nexthdr);
    }

    private static void pack8(List<ClsU32.Key> keys, long key, long mask, int off, boolean nexthdr) {
        if (key > 0xff || mask > 0xff) {
            throw badMatch();
        }
        int shift = 8 * (3 - (off & 3));
        pack(keys, key << shift, mask << shift, off & ~3, nexthdr);
    }

    /** A dotted quad as an int, or null. */
    static Integer ipv4(String s) {
        String[] p = s.split("\\.", -1);
        if (p.length != 4) {
            return null;
        }
        int a = 0;
        for (String x : p) {
            Integer b = x.isEmpty() || x.length() > 3 ? null : TcUtil.parseU32(x.startsWith("0") && x.length() > 1 ? "x" : x);
            if (b == null || b > 255) {
                return null;
            }
            a = a << 8 | b;
        }
        return a;
    }

    // --- flower (f_flower.c) ---

    private TcFilter flower(NetNamespace ns, TcFilterArgs a, int protocol, int handle) {
        long dstMac = -1;
        long srcMac = -1;
        int ipProto = -1;
        int[] src = { 0, 0 };
        int[] dst = { 0, 0 };
        int srcPort = -1;
        int dstPort = -1;
        int classid = 0;
        boolean skipHw = false;
        List<TcAction> acts = new ArrayList<>();
        while (a.more()) {
            if (ActApi.atAction(a)) {
                acts.addAll(actions.parse(ns, a));
                continue;
            }
            String w = a.next();
            switch (w) {
                case "classid", "flowid" -> classid = classid(a.value());
                case "skip_hw" -> skipHw = true;
                case "skip_sw" -> throw answers("Operation not supported");
                case "verbose" -> {
                }
                case "indev" -> {
                    String name = a.value();
                    if (ns.device(name) == null) {
                        throw TcUtil.illegal("indev");
                    }
                }
                case "dst_mac", "src_mac" -> {
                    long mac;
                    try {
                        mac = MacAddress.parse(a.value()).bits();
                    } catch (RuntimeException e) {
                        throw TcUtil.illegal(w);
                    }
                    if (w.equals("dst_mac")) {
                        dstMac = mac;
                    } else {
                        srcMac = mac;
                    }
                }
                case "ip_proto" -> {
                    String v = a.value();
                    if (protocol != Eth.ETH_P_IP && protocol != Eth.ETH_P_IPV6) {
                        throw new CommandException("Illegal \"eth_type\" for ip proto\nIllegal \"ip_proto\"", 1);
                    }
                    ipProto = switch (v) {
                        case "tcp" -> 6;
                        case "udp" -> 17;
                        case "sctp" -> 132;
                        case "icmp" -> 1;
                        case "icmpv6" -> 58;
                        default -> {
                            try {
                                int p = Integer.parseInt(v.startsWith("0x") ? v.substring(2) : v, 16);
                                if (p < 0 || p > 255) {
                                    throw TcUtil.illegal("ip_proto");
                                }
                                yield p;
                            } catch (NumberFormatException e) {
                                throw TcUtil.illegal("ip_proto");
                            }
                        }
                    };
                }
                case "src_ip", "dst_ip" -> {
                    String v = a.value();
                    if (protocol != Eth.ETH_P_IP) {
                        throw new CommandException("Illegal \"eth_type\" for ip address\nIllegal \"" + w + "\"", 1);
                    }
                    int[] pm = prefix(v, w);
                    if (w.equals("src_ip")) {
                        src = pm;
                    } else {
                        dst = pm;
                    }
                }
                case "src_port", "dst_port" -> {
                    String v = a.value();
                    if (ipProto != 6 && ipProto != 17 && ipProto != 132) {
                        throw TcUtil.illegal(w);
                    }
                    Integer p = TcUtil.parseU32(v);
                    if (p == null || p > 0xffff) {
                        throw TcUtil.illegal(w);
                    }
                    if (w.equals("src_port")) {
                        srcPort = p;
                    } else {
                        dstPort = p;
                    }
                }
                case "help" -> throw new CommandException(FLOWER_USAGE, 255);
                default -> throw new CommandException("What is \"" + w + "\"?\n" + FLOWER_USAGE, 1);
            }
        }
        ClsFlower.Keys keys = new ClsFlower.Keys(dstMac, srcMac, protocol, ipProto, src[0], src[1], dst[0], dst[1], srcPort,
                dstPort, skipHw);
        return new TcFilter(handle, classid, new ClsFlower(keys), acts);
    }

    /** An address with an optional /LEN: {address & mask, mask}. */
    private static int[] prefix(String v, String what) {
        int slash = v.indexOf('/');
        int len = 32;
        String addr = v;
        if (slash >= 0) {
            Integer l = TcUtil.parseU32(v.substring(slash + 1));
            if (l == null || l > 32 || l == 0) {
                throw TcUtil.illegal(what);
            }
            len = l;
            addr = v.substring(0, slash);
        }
        Integer a = ipv4(addr);
        if (a == null) {
            throw TcUtil.illegal(what);
        }
        int mask = -1 << (32 - len);
        return new int[] { a & mask, mask };
    }

    // --- show ---

    private synchronized List<String> show(NetNamespace ns, List<String> w, boolean stats) {
        Head h = head(ns, w, true);
        List<String> out = new ArrayList<>();
        if (!h.parentGiven || (h.parent & 0xffff0000) != ClsAct.HANDLE) {
            int root = rootHandle.applyAsInt(h.dev);
            if (root != 0 && (!h.parentGiven || h.parent == SchApi.ROOT || (h.parent & 0xffff0000) == root)) {
                print(out, rootBlock.apply(h.dev, root), h.parentGiven ? "" : "parent " + TcUtil.handle(root) + " ", h, stats);
            }
            return out;
        }
        ClsAct q = clsact.get(h.dev);
        TcFilterBlock b = q == null ? null : q.block(h.parent);
        if (b != null) {
            print(out, b, "", h, stats);
        }
        return out;
    }

    /** Every chain's filters in the order the chains were made, or the one chain named (its "chain N" then left out, as tc does). */
    private static void print(List<String> out, TcFilterBlock block, String parentWord, Head h, boolean stats) {
        for (TcFilterBlock.Chain c : block.chains()) {
            if (!h.chainGiven || c.index == h.chain) {
                print(out, c, parentWord, h, stats);
            }
        }
    }

    private static void print(List<String> out, TcFilterBlock.Chain chain, String parentWord, Head h, boolean stats) {
        for (TcFilterProto tp : chain.protos) {
            if (h.pref != 0 && tp.pref != h.pref) {
                continue;
            }
            String head = "filter " + parentWord + "protocol " + protocolName(tp.protocol) + " pref " + tp.pref + " "
                    + tp.kind + " " + (h.chainGiven ? "" : "chain " + Integer.toUnsignedString(chain.index) + " ");
            out.add(head);
            if (tp.kind.equals("u32")) {
                out.add(head + "fh 800: ht divisor 1 ");
            }
            for (TcFilter f : tp.filters) {
                StringBuilder line = new StringBuilder(head);
                if (tp.kind.equals("u32")) {
                    line.append("fh 800::").append(Integer.toHexString(f.handle)).append(' ');
                } else {
                    line.append("handle 0x").append(Integer.toHexString(f.handle)).append(' ');
                    if (f.classid != 0 && !tp.kind.equals("flower")) {
                        line.append("flowid ").append(TcUtil.handle(f.classid)).append(' ');
                    }
                }
                if (f.classid != 0 && tp.kind.equals("flower")) {
                    out.add(line.toString());
                    line = new StringBuilder("  classid ").append(TcUtil.handle(f.classid));
                }
                f.cls.print(out, line, stats);
                ActApi.print(out, f.actions, stats);
            }
        }
    }
}
