package org.modnet.ipv4;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.modnet.api.handover.HandsOver;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/**
 * {@code nf_hook}: the registered functions of each hook, by priority, in copy-on-write arrays. With
 * none registered a hook costs one array-length check, as Linux's static keys make it cost nothing.
 *
 * <p>A function whose module leaves for an update ({@link HandsOver#handingOver()}) stays in place,
 * retiring, until a function registers at the same hook and priority: its next version, which adopted
 * its rules first: a function from the same module, the same {@code owner} (the registering bundle's
 * id, which an OSGi update keeps). A function of another module at that hook and priority (iptables'
 * filter and an nftables filter chain both sit at 0) replaces nothing: were both updated at once, each
 * old version must stay until its own successor came. Packets see the old ruleset, then the new one, never an empty hook in between (a
 * firewall whose hook went away for a moment would let everything through).
 *
 * <p>Functions of one {@linkplain NfHookFunction#SET set} change version together: while a set's old
 * functions retire, the new version's wait (pending, not run) until all {@link NfHookFunction#SET_SIZE}
 * of them have registered, and then replace the whole old set in one publication. Otherwise a packet
 * could be tracked by the new conntrack at PRE_ROUTING and meet the old NAT at the next hook, which
 * does not know the new version's entry and lets it through untranslated.
 */
final class NfHooks {
    private record Entry(NfHook hook, NfHookFunction fn, int priority, String set, Object owner, boolean retiring) {
    }

    private static final NfHookFunction[] NONE = new NfHookFunction[0];

    private final List<List<Entry>> entries = new ArrayList<>();
    /** A set's next version, registered while its old version still runs; by set name. */
    private final java.util.Map<String, List<Entry>> pending = new java.util.HashMap<>();
    private volatile NfHookFunction[][] table = new NfHookFunction[NfHook.values().length][];

    NfHooks() {
        for (NfHook h : NfHook.values()) {
            entries.add(new ArrayList<>());
            table[h.ordinal()] = NONE;
        }
    }

    synchronized void add(NfHook hook, int priority, NfHookFunction fn) {
        add(hook, priority, fn, null, 0, null);
    }

    /**
     * A function of {@code set} (null: none) of {@code setSize} functions, registered by {@code owner}
     * (the bundle's id; null without OSGi): it takes the place of a retiring function of the same owner
     * at its hook and priority, and of no other.
     */
    synchronized void add(NfHook hook, int priority, NfHookFunction fn, String set, int setSize, Object owner) {
        Entry e = new Entry(hook, fn, priority, set, owner, false);
        if (set != null && retiring(set)) {
            List<Entry> next = pending.computeIfAbsent(set, k -> new ArrayList<>());
            next.add(e);
            if (next.size() < setSize) {
                return; // the old set goes on alone until its successor is whole
            }
            pending.remove(set);
            for (List<Entry> list : entries) {
                list.removeIf(x -> x.retiring && set.equals(x.set));
            }
            for (Entry n : next) {
                insert(n);
            }
            publish();
            return;
        }
        List<Entry> list = entries.get(hook.ordinal());
        // its own predecessor, not another module's that retires at the same moment
        list.removeIf(x -> x.retiring && x.set == null && x.priority == priority && java.util.Objects.equals(x.owner, owner));
        insert(e);
        publish();
    }

    private boolean retiring(String set) {
        return entries.stream().flatMap(List::stream).anyMatch(x -> x.retiring && set.equals(x.set));
    }

    private void insert(Entry e) {
        List<Entry> list = entries.get(e.hook.ordinal());
        list.add(e);
        list.sort(Comparator.comparingInt(Entry::priority));
    }

    synchronized void remove(NfHookFunction fn) {
        for (List<Entry> next : pending.values()) {
            next.removeIf(x -> x.fn == fn); // a successor that left before it was whole
        }
        pending.values().removeIf(List::isEmpty);
        boolean retire = fn instanceof HandsOver h && h.handingOver();
        for (List<Entry> list : entries) {
            if (retire) {
                list.replaceAll(e -> e.fn == fn ? new Entry(e.hook, fn, e.priority, e.set, e.owner, true) : e);
            } else {
                list.removeIf(e -> e.fn == fn);
            }
        }
        publish();
    }

    private void publish() {
        NfHookFunction[][] t = new NfHookFunction[NfHook.values().length][];
        for (NfHook h : NfHook.values()) {
            t[h.ordinal()] = entries.get(h.ordinal()).stream().map(Entry::fn).toArray(NfHookFunction[]::new);
        }
        table = t;
    }

    /**
     * {@code nf_reinject}: the hook's functions after {@code from}, which queued the packet. True: the
     * packet goes on. False: dropped (freed here) or stolen, or {@code from} is no longer at the hook
     * (updated, unregistered while the packet waited), which drops it as the ruleset it was judged by is gone.
     */
    boolean runAfter(NfHook hook, NfHookFunction from, SkBuff skb, NetNamespace ns, NetDevice in, NetDevice out) {
        return runAfter(hook, from, skb, ns, in, out, false);
    }

    /** {@link #runAfter}, with {@code from} itself run first when {@code repeat} (NF_REPEAT). */
    boolean runAfter(NfHook hook, NfHookFunction from, SkBuff skb, NetNamespace ns, NetDevice in, NetDevice out, boolean repeat) {
        NfHookFunction[] fns = table[hook.ordinal()];
        int i = 0;
        while (i < fns.length && fns[i] != from) {
            i++;
        }
        if (i == fns.length) {
            skb.free();
            return false;
        }
        for (i = repeat ? i : i + 1; i < fns.length; i++) {
            Verdict v = fns[i].hook(skb, hook, ns, in, out);
            if (v == Verdict.DROP) {
                skb.free();
                return false;
            }
            if (v == Verdict.STOLEN) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs the hook's functions. True: the packet goes on. False: it was dropped (and freed here) or
     * stolen by a function.
     */
    boolean run(NfHook hook, SkBuff skb, NetNamespace ns, NetDevice in, NetDevice out) {
        NfHookFunction[] fns = table[hook.ordinal()];
        for (NfHookFunction fn : fns) {
            Verdict v = fn.hook(skb, hook, ns, in, out);
            if (v == Verdict.DROP) {
                skb.free();
                return false;
            }
            if (v == Verdict.STOLEN) {
                return false;
            }
        }
        return true;
    }
}
