package org.modnet.apps;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON iperf3 exchanges on its control connection (parameters, results) and prints for {@code -J}:
 * objects as insertion-ordered maps, arrays as lists, numbers as Long when integral and Double
 * otherwise, strings, booleans and null. A small parser that never trusts its input: bad JSON is an
 * {@link IllegalArgumentException} with the offset, as iperf3 answers "unable to receive parameters".
 */
final class Iperf3Json {
    /** Nesting beyond this is refused: the peer's JSON is small and flat. */
    static final int MAX_DEPTH = 16;

    private final String s;
    private int i;

    private Iperf3Json(String s) {
        this.s = s;
    }

    static Object parse(String text) {
        Iperf3Json p = new Iperf3Json(text);
        Object v = p.value(0);
        p.ws();
        if (p.i != text.length()) {
            throw p.bad("trailing characters");
        }
        return v;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(String text) {
        if (parse(text) instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new IllegalArgumentException("JSON: an object expected");
    }

    private IllegalArgumentException bad(String why) {
        return new IllegalArgumentException("JSON: " + why + " at offset " + i);
    }

    private void ws() {
        while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw bad("nested too deep");
        }
        ws();
        if (i >= s.length()) {
            throw bad("unexpected end");
        }
        char c = s.charAt(i);
        switch (c) {
            case '{' -> {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (i < s.length() && s.charAt(i) == '}') {
                    i++;
                    return m;
                }
                while (true) {
                    ws();
                    if (i >= s.length() || s.charAt(i) != '"') {
                        throw bad("a key expected");
                    }
                    String k = string();
                    ws();
                    expect(':');
                    m.put(k, value(depth + 1));
                    ws();
                    if (i < s.length() && s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect('}');
                    return m;
                }
            }
            case '[' -> {
                i++;
                List<Object> l = new ArrayList<>();
                ws();
                if (i < s.length() && s.charAt(i) == ']') {
                    i++;
                    return l;
                }
                while (true) {
                    l.add(value(depth + 1));
                    ws();
                    if (i < s.length() && s.charAt(i) == ',') {
                        i++;
                        continue;
                    }
                    expect(']');
                    return l;
                }
            }
            case '"' -> {
                return string();
            }
            default -> {
                if (s.startsWith("true", i)) {
                    i += 4;
                    return Boolean.TRUE;
                }
                if (s.startsWith("false", i)) {
                    i += 5;
                    return Boolean.FALSE;
                }
                if (s.startsWith("null", i)) {
                    i += 4;
                    return null;
                }
                return number();
            }
        }
    }

    private void expect(char c) {
        if (i >= s.length() || s.charAt(i) != c) {
            throw bad("'" + c + "' expected");
        }
        i++;
    }

    private String string() {
        i++;
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) {
                throw bad("unterminated string");
            }
            char c = s.charAt(i++);
            if (c == '"') {
                return b.toString();
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i >= s.length()) {
                throw bad("unterminated escape");
            }
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) {
                        throw bad("short \\u escape");
                    }
                    try {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException x) {
                        throw bad("bad \\u escape");
                    }
                    i += 4;
                }
                default -> throw bad("bad escape");
            }
        }
    }

    private Object number() {
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        String t = s.substring(start, i);
        if (t.isEmpty()) {
            throw bad("a value expected");
        }
        try {
            if (t.indexOf('.') < 0 && t.indexOf('e') < 0 && t.indexOf('E') < 0) {
                try {
                    return Long.parseLong(t);
                } catch (NumberFormatException big) {
                    // iperf3 writes an unknown count as (uint64_t) -1: 18446744073709551615
                    return Long.parseUnsignedLong(t);
                }
            }
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw bad("bad number '" + t + "'");
        }
    }

    /** Compact JSON, as iperf3 sends it on the control connection. */
    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, -1, 0);
        return b.toString();
    }

    /** Indented with tabs, as {@code iperf3 -J} prints (cJSON_Print). */
    static String pretty(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, 0, 0);
        return b.toString();
    }

    private static void indent(StringBuilder b, int pretty, int depth) {
        if (pretty >= 0) {
            b.append('\n');
            b.append("\t".repeat(depth));
        }
    }

    private static void write(StringBuilder b, Object v, int pretty, int depth) {
        switch (v) {
            case null -> b.append("null");
            case Map<?, ?> m -> {
                b.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!first) {
                        b.append(',');
                    }
                    first = false;
                    indent(b, pretty, depth + 1);
                    quote(b, e.getKey().toString());
                    b.append(pretty >= 0 ? ":\t" : ":");
                    write(b, e.getValue(), pretty, depth + 1);
                }
                if (!m.isEmpty()) {
                    indent(b, pretty, depth);
                }
                b.append('}');
            }
            case List<?> l -> {
                b.append('[');
                boolean first = true;
                for (Object o : l) {
                    if (!first) {
                        b.append(pretty >= 0 ? ", " : ",");
                    }
                    first = false;
                    write(b, o, pretty, depth);
                }
                b.append(']');
            }
            case String str -> quote(b, str);
            case Double d -> {
                if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                    b.append((long) d.doubleValue());
                } else {
                    b.append(String.format(Locale.ROOT, "%.17g", d).replaceFirst("0+$", "").replaceFirst("\\.$", ""));
                }
            }
            case Float f -> write(b, f.doubleValue(), pretty, depth);
            default -> b.append(v);
        }
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    static long asLong(Object o, long dflt) {
        return o instanceof Number n ? n.longValue() : o instanceof Boolean bo ? (bo ? 1 : 0) : dflt;
    }

    static double asDouble(Object o, double dflt) {
        return o instanceof Number n ? n.doubleValue() : dflt;
    }

    static boolean asBool(Object o) {
        return o instanceof Boolean b ? b : o instanceof Number n && n.longValue() != 0;
    }
}
