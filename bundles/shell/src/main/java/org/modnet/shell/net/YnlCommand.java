package org.modnet.shell.net;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.RxQueue;
import org.modnet.api.shell.CommandException;

/**
 * {@code ynl --family netdev --do napi-get|napi-set --json '{...}'} and {@code --dump napi-get}: the
 * netdev generic netlink family's NAPI operations as the kernel's {@code ynl} client
 * ({@code tools/net/ynl}) runs them, with its output (Python's {@code pprint} of the reply: keys
 * sorted, one per line when the line would pass 80 columns; {@code None} for a reply without
 * attributes). A NAPI instance shows {@code id}, {@code ifindex}, {@code defer-hard-irqs},
 * {@code gro-flush-timeout} and {@code irq-suspend-timeout} (Linux 6.13); {@code napi-set} sets them.
 * modnet keeps {@code defer-hard-irqs} and {@code gro-flush-timeout} per device (a write sets the
 * device's, as the sysfs files do), {@code irq-suspend-timeout} per instance.
 */
final class YnlCommand {
    static final String USAGE = "usage: ynl --family netdev (--do napi-get|napi-set --json JSON | --dump napi-get [--json JSON])";

    private final Invocation inv;

    YnlCommand(Invocation inv) {
        this.inv = inv;
    }

    void run(List<String> words) {
        String family = null;
        String op = null;
        boolean dump = false;
        String json = null;
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String v = i + 1 < words.size() ? words.get(i + 1) : null;
            if (w.startsWith("--json=")) {
                json = w.substring("--json=".length());
                continue;
            }
            switch (w) {
                case "-h", "--help" -> {
                    inv.out().println(USAGE);
                    return;
                }
                case "--family" -> family = need(v, i++);
                case "--do" -> op = need(v, i++);
                case "--dump" -> {
                    op = need(v, i++);
                    dump = true;
                }
                case "--json" -> json = need(v, i++);
                default -> throw new CommandException(USAGE + "\nynl: error: unrecognized arguments: " + w, 2);
            }
        }
        if (!"netdev".equals(family)) {
            throw new CommandException(family == null ? USAGE + "\nynl: error: --family is required"
                    : "ynl: no family " + family + " in modnet (netdev only)", family == null ? 2 : 1);
        }
        if (op == null) {
            throw new CommandException(USAGE + "\nynl: error: one of --do or --dump is required", 2);
        }
        Map<String, Long> attrs = parse(json == null ? "{}" : json);
        NetNamespace ns = inv.namespace("ynl");
        switch (op) {
            case "napi-get" -> {
                if (dump) {
                    Long ifindex = attrs.get("ifindex");
                    List<Map<String, Long>> all = new ArrayList<>();
                    for (NetDevice dev : ns.devices()) {
                        if (ifindex == null || dev.ifindex() == ifindex) {
                            for (int q = 0; q < dev.rxQueues(); q++) {
                                RxQueue rx = dev.rxQueue(q);
                                if (rx != null && rx.napiId() != 0) {
                                    all.add(napi(dev, rx));
                                }
                            }
                        }
                    }
                    inv.out().println(pprintList(all));
                } else {
                    Found f = find(ns, attrs);
                    inv.out().println(pprint(napi(f.dev, f.rx), 0));
                }
            }
            case "napi-set" -> {
                if (dump) {
                    throw new CommandException("Netlink error: Operation not supported", 1);
                }
                Found f = find(ns, attrs);
                try {
                    Long v;
                    if ((v = attrs.get("irq-suspend-timeout")) != null) {
                        f.rx.setIrqSuspendTimeout(v);
                    }
                    if ((v = attrs.get("gro-flush-timeout")) != null) {
                        f.dev.setGroFlushTimeout(v);
                    }
                    if ((v = attrs.get("defer-hard-irqs")) != null) {
                        if (v > Integer.MAX_VALUE) {
                            throw new CommandException("Netlink error: Numerical result out of range", 1);
                        }
                        f.dev.setNapiDeferHardIrqs((int) (long) v);
                    }
                } catch (NetException e) {
                    throw new CommandException("Netlink error: " + e.getMessage(), 1);
                }
                inv.out().println("None");
            }
            default -> throw new CommandException("ynl: netdev has no operation " + op + " in modnet (napi-get, napi-set)", 1);
        }
    }

    private static String need(String v, int at) {
        if (v == null) {
            throw new CommandException(USAGE + "\nynl: error: argument expected", 2);
        }
        return v;
    }

    private record Found(NetDevice dev, RxQueue rx) {
    }

    /** The instance {@code id} names in this namespace; ENOENT, as the kernel answers, when none. */
    private static Found find(NetNamespace ns, Map<String, Long> attrs) {
        Long id = attrs.get("id");
        if (id == null) {
            throw new CommandException("Netlink error: Invalid argument\nerror: -22\n  extack: {'miss-type': 'id'}", 1);
        }
        for (NetDevice dev : ns.devices()) {
            for (int q = 0; q < dev.rxQueues(); q++) {
                RxQueue rx = dev.rxQueue(q);
                if (rx != null && rx.napiId() == id) {
                    return new Found(dev, rx);
                }
            }
        }
        throw new CommandException("Netlink error: No such file or directory\nerror: -2\n  extack: {'bad-attr': '.id'}", 1);
    }

    private static Map<String, Long> napi(NetDevice dev, RxQueue rx) {
        Map<String, Long> m = new LinkedHashMap<>(); // pprint's order: sorted keys
        m.put("defer-hard-irqs", (long) dev.napiDeferHardIrqs());
        m.put("gro-flush-timeout", dev.groFlushTimeout());
        m.put("id", (long) rx.napiId());
        m.put("ifindex", (long) dev.ifindex());
        m.put("irq-suspend-timeout", rx.irqSuspendTimeout());
        return m;
    }

    /** A flat JSON object of integers, as the netdev family's NAPI attributes are. */
    static Map<String, Long> parse(String json) {
        String s = json.strip();
        if (!s.startsWith("{") || !s.endsWith("}")) {
            throw new CommandException("ynl: --json: not a JSON object: " + json, 1);
        }
        Map<String, Long> m = new LinkedHashMap<>();
        String body = s.substring(1, s.length() - 1).strip();
        if (body.isEmpty()) {
            return m;
        }
        for (String member : body.split(",")) {
            int colon = member.indexOf(':');
            String key = colon < 0 ? "" : member.substring(0, colon).strip();
            if (colon < 0 || key.length() < 2 || key.charAt(0) != '"' || key.charAt(key.length() - 1) != '"') {
                throw new CommandException("ynl: --json: bad member: " + member.strip(), 1);
            }
            key = key.substring(1, key.length() - 1);
            if (!List.of("id", "ifindex", "defer-hard-irqs", "gro-flush-timeout", "irq-suspend-timeout").contains(key)) {
                throw new CommandException("ynl: no attribute '" + key + "' in netdev's napi", 1);
            }
            try {
                long v = Long.parseLong(member.substring(colon + 1).strip());
                if (v < 0 || (v > 0xffffffffL && !key.endsWith("timeout"))) {
                    throw new CommandException("ynl: --json: " + key + " out of range: " + v, 1);
                }
                m.put(key, v);
            } catch (NumberFormatException e) {
                throw new CommandException("ynl: --json: " + key + " is not an integer", 1);
            }
        }
        return m;
    }

    /** pprint of a dict at column {@code indent}: on one line if it fits in 80 columns, else a key a line. */
    static String pprint(Map<String, Long> m, int indent) {
        List<String> items = new ArrayList<>();
        m.forEach((k, v) -> items.add("'" + k + "': " + v));
        String one = "{" + String.join(", ", items) + "}";
        if (indent + one.length() <= 80) {
            return one;
        }
        return "{" + String.join(",\n" + " ".repeat(indent + 1), items) + "}";
    }

    /** pprint of a list of dicts: each at column 1, separated by a comma and a newline when it does not fit on one line. */
    static String pprintList(List<Map<String, Long>> all) {
        List<String> each = new ArrayList<>();
        for (Map<String, Long> m : all) {
            each.add(pprint(m, 1));
        }
        String one = "[" + String.join(", ", each) + "]";
        if (one.length() <= 80 && !one.contains("\n")) {
            return one;
        }
        return "[" + String.join(",\n ", each) + "]";
    }
}
