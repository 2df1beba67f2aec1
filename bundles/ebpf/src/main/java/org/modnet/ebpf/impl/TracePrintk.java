package org.modnet.ebpf.impl;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * {@code bpf_trace_printk}'s formatting: the format string from the program's memory (up to its NUL)
 * with at most three arguments for {@code %d %i %u %x %X %ld %lu %lx %lld %llu %llx %p %c %%}, as the
 * kernel's {@code bstr_printf} subset allows. What is not understood is printed as it stands.
 */
final class TracePrintk {
    private TracePrintk() {
    }

    static String format(MemorySegment fmt, long... args) {
        StringBuilder text = new StringBuilder();
        for (long i = 0; i < fmt.byteSize(); i++) {
            byte b = fmt.get(ValueLayout.JAVA_BYTE, i);
            if (b == 0) {
                break;
            }
            text.append((char) (b & 0xff));
        }
        StringBuilder out = new StringBuilder();
        int next = 0;
        String f = text.toString();
        for (int i = 0; i < f.length(); i++) {
            char c = f.charAt(i);
            if (c != '%' || i + 1 >= f.length()) {
                out.append(c);
                continue;
            }
            int j = i + 1;
            if (f.charAt(j) == '%') {
                out.append('%');
                i = j;
                continue;
            }
            boolean wide = false;
            while (j < f.length() && f.charAt(j) == 'l') {
                wide = true;
                j++;
            }
            if (j >= f.length() || next >= args.length) {
                out.append(f, i, Math.min(j + 1, f.length()));
                i = j;
                continue;
            }
            long v = args[next];
            char conv = f.charAt(j);
            String s = switch (conv) {
                case 'd', 'i' -> Long.toString(wide ? v : (int) v);
                case 'u' -> wide ? Long.toUnsignedString(v) : Long.toString(v & 0xffffffffL);
                case 'x' -> Long.toHexString(wide ? v : v & 0xffffffffL);
                case 'X' -> Long.toHexString(wide ? v : v & 0xffffffffL).toUpperCase(java.util.Locale.ROOT);
                case 'p' -> "0x" + Long.toHexString(v);
                case 'c' -> String.valueOf((char) (v & 0xff));
                default -> null;
            };
            if (s == null) {
                out.append(f, i, j + 1);
            } else {
                out.append(s);
                next++;
            }
            i = j;
        }
        String line = out.toString();
        return line.endsWith("\n") ? line.substring(0, line.length() - 1) : line;
    }
}
