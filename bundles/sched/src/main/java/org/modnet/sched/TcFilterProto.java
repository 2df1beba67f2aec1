package org.modnet.sched;

import java.util.Arrays;

/**
 * A classifier instance in a chain ({@code struct tcf_proto}): one kind at one preference for one
 * protocol, holding that kind's filters. Its filter array is replaced whole on a change (under the
 * command's lock), so the packet path reads it without one.
 */
final class TcFilterProto {
    final int pref;
    final int protocol;
    final String kind;
    volatile TcFilter[] filters = new TcFilter[0];
    /** The next handle this instance gives a filter added without one (u32: 800::800, 800::801 ...; others 0x1, 0x2 ...). */
    int nextHandle;

    TcFilterProto(int pref, int protocol, String kind) {
        this.pref = pref;
        this.protocol = protocol;
        this.kind = kind;
        this.nextHandle = kind.equals("u32") ? 0x800 : 1;
    }

    TcFilter find(int handle) {
        for (TcFilter f : filters) {
            if (f.handle == handle) {
                return f;
            }
        }
        return null;
    }

    /** Puts {@code f} in, in place of the filter of the same handle if there is one; returns that one or null. */
    TcFilter put(TcFilter f) {
        TcFilter[] now = filters;
        for (int i = 0; i < now.length; i++) {
            if (now[i].handle == f.handle) {
                TcFilter[] next = now.clone();
                next[i] = f;
                filters = next;
                return now[i];
            }
        }
        TcFilter[] next = Arrays.copyOf(now, now.length + 1);
        next[now.length] = f;
        Arrays.sort(next, (a, b) -> Integer.compareUnsigned(a.handle, b.handle));
        filters = next;
        if (Integer.compareUnsigned(f.handle, nextHandle) >= 0 && (f.handle & 0xfffff000) == 0) {
            nextHandle = f.handle + 1;
        }
        return null;
    }

    void remove(TcFilter f) {
        filters = Arrays.stream(filters).filter(x -> x != f).toArray(TcFilter[]::new);
    }
}
