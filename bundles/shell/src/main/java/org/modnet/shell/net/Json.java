package org.modnet.shell.net;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * iproute2's JSON output ({@code ip -j}, {@code -p}): a value tree of {@link Map} (members in
 * insertion order), {@link List}, {@link String}, {@link Number} and {@link Boolean}, written as
 * iproute2's {@code json_writer} writes it. Compact: no space anywhere. Pretty: each object member on
 * its own line indented four spaces a level, array elements on the line of their array, {@code "name": }
 * with a space, {@code [ } and { ]} around non-empty arrays, objects in an array joined by {@code },{}.
 * The output ends with a newline.
 */
final class Json {
    private final StringBuilder out = new StringBuilder();
    private final boolean pretty;
    private int depth;
    /** What goes before the next item: nothing at the start of a container, else a comma. */
    private boolean comma;

    private Json(boolean pretty) {
        this.pretty = pretty;
    }

    /** An object whose members keep the order they are put in. */
    static Map<String, Object> object() {
        return new LinkedHashMap<>();
    }

    /** The top-level array of {@code items}, as {@code ip -j} prints a listing, with its final newline. */
    static String render(List<?> items, boolean pretty) {
        Json j = new Json(pretty);
        j.value(items);
        return j.out.append('\n').toString();
    }

    private void separator() {
        if (comma) {
            out.append(',');
        }
        comma = true;
    }

    private void newline() {
        if (pretty) {
            out.append('\n').append("    ".repeat(depth));
        }
    }

    private void value(Object v) {
        if (v instanceof Map<?, ?> m) {
            separator();
            out.append('{');
            depth++;
            comma = false;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                separator();
                newline();
                comma = false;
                string(String.valueOf(e.getKey()));
                out.append(pretty ? ": " : ":");
                value(e.getValue());
            }
            depth--;
            if (comma) {
                newline();
            }
            out.append('}');
            comma = true;
        } else if (v instanceof List<?> l) {
            separator();
            out.append('[');
            depth++;
            comma = false;
            if (pretty) {
                out.append(' ');
            }
            for (Object o : l) {
                value(o);
            }
            if (pretty && comma) {
                out.append(' ');
            }
            depth--;
            out.append(']');
            comma = true;
        } else {
            separator();
            if (v instanceof String s) {
                string(s);
            } else {
                out.append(v); // numbers and booleans as they are
            }
        }
    }

    /** {@code jsonw_string}: quotes, backslash escapes for the quote, the backslash and control characters. */
    private void string(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
