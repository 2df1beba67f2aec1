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
 * its rules first. Packets see the old ruleset, then the new one, never an empty hook in between (a
 * firewall whose hook went away for a moment would let everything through).
 */
final class NfHooks {
    private record Entry(NfHookFunction fn, int priority, boolean retiring) {
    }

    private static final NfHookFunction[] NONE = new NfHookFunction[0];

    private final List<List<Entry>> entries = new ArrayList<>();
    private volatile NfHookFunction[][] table = new NfHookFunction[NfHook.values().length][];

    NfHooks() {
        for (NfHook h : NfHook.values()) {
            entries.add(new ArrayList<>());
            table[h.ordinal()] = NONE;
        }
    }

    synchronized void add(NfHook hook, int priority, NfHookFunction fn) {
        List<Entry> list = entries.get(hook.ordinal());
        list.removeIf(e -> e.retiring && e.priority == priority); // the next version takes its place
        list.add(new Entry(fn, priority, false));
        list.sort(Comparator.comparingInt(Entry::priority));
        publish();
    }

    synchronized void remove(NfHookFunction fn) {
        boolean retire = fn instanceof HandsOver h && h.handingOver();
        for (List<Entry> list : entries) {
            if (retire) {
                list.replaceAll(e -> e.fn == fn ? new Entry(fn, e.priority, true) : e);
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
