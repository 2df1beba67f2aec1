package org.modnet.shell.snmp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.NetNamespace;

/**
 * What {@code nstat} computes, apart from the shell: the counters of every MIB of a namespace, the
 * increments since the last run (its history), and iproute2's output format.
 */
final class Nstat {
    /** The last values shown, per namespace: nstat's history file. */
    private final Map<NetNamespace, Map<String, Long>> history = new ConcurrentHashMap<>();

    record Options(boolean absolute, boolean zeros, boolean reset, boolean noOutput, boolean noUpdate, List<String> patterns) {
    }

    static Options parse(String... args) {
        boolean absolute = false;
        boolean zeros = false;
        boolean reset = false;
        boolean noOutput = false;
        boolean noUpdate = false;
        List<String> patterns = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("--")) {
                switch (a) {
                    case "--absolute" -> absolute = true;
                    case "--zeros" -> zeros = true;
                    case "--reset" -> reset = true;
                    case "--nooutput" -> noOutput = true;
                    case "--noupdate" -> noUpdate = true;
                    default -> throw new IllegalArgumentException("nstat: unrecognized option '" + a + "'");
                }
            } else if (a.startsWith("-") && a.length() > 1) {
                for (char c : a.substring(1).toCharArray()) {
                    switch (c) {
                        case 'a' -> absolute = true;
                        case 'z' -> zeros = true;
                        case 'r' -> reset = true;
                        case 'n' -> noOutput = true;
                        case 's' -> noUpdate = true;
                        default -> throw new IllegalArgumentException("nstat: invalid option -- '" + c + "'");
                    }
                }
            } else {
                patterns.add(a);
            }
        }
        return new Options(absolute, zeros, reset, noOutput, noUpdate, patterns);
    }

    /** The lines {@code nstat} prints for these options, updating the history as nstat does. */
    List<String> run(NetNamespace ns, List<SnmpMib> mibs, Options o) {
        Map<String, Long> now = ProcNetSnmp.nstat(ProcNetSnmp.all(mibs, ns));
        Map<String, Long> last = o.reset ? Map.of() : history.getOrDefault(ns, Map.of());
        List<Pattern> patterns = new ArrayList<>();
        for (String p : o.patterns) {
            patterns.add(Pattern.compile(p.replace("*", ".*").replace("?", ".")));
        }
        List<String> lines = new ArrayList<>();
        lines.add("#kernel");
        for (Map.Entry<String, Long> e : now.entrySet()) {
            long value = o.absolute ? e.getValue() : e.getValue() - last.getOrDefault(e.getKey(), 0L);
            if (value == 0 && !o.zeros) {
                continue;
            }
            if (!patterns.isEmpty() && patterns.stream().noneMatch(p -> p.matcher(e.getKey()).matches())) {
                continue;
            }
            lines.add(String.format("%-32s%-16d%6.1f", e.getKey(), value, 0.0));
        }
        if (!o.noUpdate) {
            history.put(ns, new HashMap<>(now));
        }
        return o.noOutput ? List.of() : lines;
    }
}
