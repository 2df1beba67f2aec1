package org.modnet.core;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

import org.modnet.api.net.NetException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Configured sysctl values ({@code /etc/sysctl.d} for modnet): name to value, from the Configuration
 * Admin PID {@value #PID}, which a feature may carry. They apply to every namespace, those that exist
 * and those made later, and to entries a layer registers later; a name the configuration drops goes
 * back to its default.
 */
final class SysctlConf {
    /** The Configuration Admin PID whose properties named {@code net.*} are sysctls. */
    static final String PID = "org.modnet.sysctl";

    private static final Logger LOG = LoggerFactory.getLogger(SysctlConf.class);

    private volatile Map<String, String> values = Map.of();
    /** Configured values an entry refused (out of range, not a number). */
    private final LongAdder errors = new LongAdder();

    /** The sysctl names among a configuration's properties ({@code net.*}), with their values as text. */
    static Map<String, String> sysctls(Map<String, ?> properties) {
        Map<String, String> result = new TreeMap<>();
        if (properties != null) {
            properties.forEach((k, v) -> {
                if (k.startsWith("net.") && v != null) {
                    result.put(k.replace('/', '.'), v instanceof Object[] a ? String.join(" ", toStrings(a)) : v.toString());
                }
            });
        }
        return result;
    }

    private static String[] toStrings(Object[] a) {
        String[] s = new String[a.length];
        for (int i = 0; i < a.length; i++) {
            s[i] = String.valueOf(a[i]);
        }
        return s;
    }

    Map<String, String> values() {
        return values;
    }

    void values(Map<String, String> next) {
        values = Map.copyOf(next);
    }

    String value(String name) {
        return values.get(name);
    }

    long errors() {
        return errors.sum();
    }

    /** Sets one entry to its configured value; a refusal is logged in sysctl's words and counted. */
    void apply(SysctlTree tree, String name, String value) {
        try {
            tree.set(name, value);
        } catch (NetException e) {
            errors.increment();
            LOG.warn("sysctl: setting key \"{}\" from configuration {}: {}", name, PID, e.getMessage());
        }
    }
}
