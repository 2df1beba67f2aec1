package org.modnet.shell.net;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Routing table names as iproute2's {@code rtnl_rttable_a2n} and {@code n2a} read them: the built-in
 * {@code local} (255), {@code main} (254), {@code default} (253) and {@code unspec} (0), and the
 * lines {@code ID NAME} of {@code /etc/iproute2/rt_tables} where that file exists, read once.
 */
final class RtTables {
    private static volatile Map<Long, String> names;

    private RtTables() {
    }

    private static Map<Long, String> names() {
        Map<Long, String> n = names;
        if (n != null) {
            return n;
        }
        n = new LinkedHashMap<>();
        n.put(255L, "local");
        n.put(254L, "main");
        n.put(253L, "default");
        n.put(0L, "unspec");
        try {
            for (String line : Files.readAllLines(Path.of("/etc/iproute2/rt_tables"))) {
                String[] w = line.strip().split("\\s+");
                if (w.length >= 2 && !w[0].startsWith("#")) {
                    Long id = id(w[0]);
                    if (id != null) {
                        n.put(id, w[1]);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // no such file: the built-in names only, as iproute2 without one
        }
        names = n;
        return n;
    }

    /** A table by name or number (0 .. 2^32-1, decimal or 0x hex), or null if it is neither. */
    static Long parse(String word) {
        for (Map.Entry<Long, String> e : names().entrySet()) {
            if (e.getValue().equals(word)) {
                return e.getKey();
            }
        }
        return id(word);
    }

    private static Long id(String word) {
        try {
            long v = word.startsWith("0x") || word.startsWith("0X") ? Long.parseLong(word.substring(2), 16) : Long.parseLong(word);
            return v < 0 || v > 0xffffffffL ? null : v;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The table's name, or its number. */
    static String name(long id) {
        String n = names().get(id);
        return n != null ? n : Long.toString(id);
    }
}
