package org.modnet.ipset;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.LongSupplier;

import org.modnet.api.netfilter.IpSet;
import org.modnet.api.skb.SkBuff;

/**
 * One set as rules hold it ({@code struct ip_set} at its index in the kernel's list): a name and, behind
 * one volatile field, its contents, which {@code ipset swap} exchanges with another set's while each
 * rule keeps the name it was given.
 */
final class NamedSet implements IpSet {
    /** A set's type, options and elements: what swap moves. */
    static final class Data {
        final SetType type;
        final int hashsize, maxelem;
        /** The default timeout in seconds, or -1 for a set made without timeout support. */
        final int timeout;
        final boolean counters;
        /** bitmap:port's range. */
        final int first, last;
        final int initval;
        final SetTable table;
        /** hash:net: how many elements of each prefix length were added (mtype_add_cidr), so a test asks only those. */
        final AtomicIntegerArray cidrs = new AtomicIntegerArray(33);

        Data(SetType type, int hashsize, int maxelem, int timeout, boolean counters, int first, int last, int initval) {
            this.type = type;
            this.hashsize = hashsize;
            this.maxelem = maxelem;
            this.timeout = timeout;
            this.counters = counters;
            this.first = first;
            this.last = last;
            this.initval = initval;
            this.table = new SetTable(type == SetType.BITMAP_PORT ? last - first + 1 : maxelem, counters, type == SetType.HASH_NET);
        }
    }

    volatile String name;
    volatile Data data;
    private final LongSupplier clock;

    NamedSet(String name, Data data, LongSupplier clock) {
        this.name = name;
        this.data = data;
        this.clock = clock;
    }

    @Override
    public String name() {
        return name;
    }

    long now() {
        return clock.getAsLong();
    }

    /** hash:ip's and hash:net's key: the address; hash:net's with its prefix length above it. */
    static long netKey(int addr, int cidr) {
        int m = cidr == 0 ? 0 : -1 << (32 - cidr);
        return ((long) cidr << 32) | ((addr & m) & 0xffffffffL);
    }

    /** hash:ip,port's key: address, protocol, port. */
    static long ipPortKey(int addr, int proto, int port) {
        return ((addr & 0xffffffffL) << 24) | ((long) proto << 16) | port;
    }

    private static boolean hasPorts(int proto) {
        return proto == 6 || proto == 17 || proto == 132 || proto == 136;
    }

    /** The packet's key for a set of this type (hash:net's at /32), or -1 when the packet has none. */
    private static long key(Data d, SkBuff skb, int nh, int th, int proto, int dim, int srcFlags) {
        if (dim < d.type.dimension) {
            return -1; // ip_set_test: too few dimensions given never match
        }
        int addr = skb.getU32(nh + ((srcFlags & 1) != 0 ? 12 : 16));
        switch (d.type) {
            case HASH_IP:
                return addr & 0xffffffffL;
            case HASH_NET:
                return netKey(addr, 32);
            case HASH_IP_PORT: {
                if (th < 0 || !hasPorts(proto)) {
                    return -1;
                }
                int port = skb.getU16(th + ((srcFlags & 2) != 0 ? 0 : 2));
                return ipPortKey(addr, proto, port);
            }
            default: {
                if (th < 0 || !hasPorts(proto)) {
                    return -1;
                }
                int port = skb.getU16(th + ((srcFlags & 1) != 0 ? 0 : 2));
                return port < d.first || port > d.last ? -1 : port;
            }
        }
    }

    @Override
    public boolean test(SkBuff skb, int nh, int th, int proto, int dim, int srcFlags) {
        Data d = data;
        long now = clock.getAsLong();
        int slot = -1;
        if (d.type == SetType.HASH_NET) {
            if (dim < 1) {
                return false;
            }
            int addr = skb.getU32(nh + ((srcFlags & 1) != 0 ? 12 : 16));
            for (int c = 32; c >= 0 && slot < 0; c--) { // the most specific network first, as mtype_test_cidrs
                if (d.cidrs.get(c) > 0) {
                    slot = d.table.find(netKey(addr, c), now);
                }
            }
        } else {
            long k = key(d, skb, nh, th, proto, dim, srcFlags);
            slot = k < 0 ? -1 : d.table.find(k, now);
        }
        if (slot < 0 || (d.table.flags(slot) & SetTable.NOMATCH) != 0) {
            return false; // a nomatch network: its addresses are out of the set, however large a network holds them
        }
        d.table.count(slot, skb.getU16(nh + 2));
        return true;
    }

    @Override
    public void add(SkBuff skb, int nh, int th, int proto, int dim, int srcFlags, int timeout, boolean exist) {
        Data d = data;
        long k = key(d, skb, nh, th, proto, dim, srcFlags);
        if (k < 0) {
            return;
        }
        long now = clock.getAsLong();
        int t = d.timeout < 0 ? -1 : timeout >= 0 ? timeout : d.timeout;
        if (d.table.add(k, expiry(t, now), exist, now) == SetTable.Added.ADDED && d.type == SetType.HASH_NET) {
            d.cidrs.incrementAndGet(32);
        }
    }

    @Override
    public void del(SkBuff skb, int nh, int th, int proto, int dim, int srcFlags) {
        Data d = data;
        long k = key(d, skb, nh, th, proto, dim, srcFlags);
        if (k >= 0 && d.table.del(k, clock.getAsLong()) && d.type == SetType.HASH_NET) {
            d.cidrs.decrementAndGet(32);
        }
    }

    /** An element's expiry for a timeout in seconds: 0 (never) for none or 0. */
    static long expiry(int timeoutSeconds, long now) {
        if (timeoutSeconds <= 0) {
            return 0;
        }
        long e = now + timeoutSeconds * 1_000_000_000L;
        return e == 0 ? 1 : e;
    }
}
