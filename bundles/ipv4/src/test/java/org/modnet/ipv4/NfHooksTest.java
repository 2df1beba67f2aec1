package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.modnet.api.handover.HandsOver;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.NfHookFunction;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** The hooks' functions as modules come, go, and leave for an update. */
class NfHooksTest {
    private final NfHooks hooks = new NfHooks();
    private final SkBuffPool pool = new SkBuffPool(4, 256);

    /** A firewall that drops everything, leaving for an update while {@code updating} is set. */
    private static final class Firewall implements NfHookFunction, HandsOver {
        final AtomicBoolean updating = new AtomicBoolean();
        int seen;

        @Override
        public Verdict hook(SkBuff skb, NfHook hook, org.modnet.api.net.NetNamespace ns, org.modnet.api.net.NetDevice in,
                org.modnet.api.net.NetDevice out) {
            seen++;
            return Verdict.DROP;
        }

        @Override
        public boolean handingOver() {
            return updating.get();
        }
    }

    private boolean passes() {
        return hooks.run(NfHook.FORWARD, pool.alloc(64), null, null, null);
    }

    @Test
    void aFunctionThatGoesForGoodLeavesTheHookEmpty() {
        Firewall fw = new Firewall();
        hooks.add(NfHook.FORWARD, 0, fw);
        assertFalse(passes());
        hooks.remove(fw);
        assertTrue(passes());
    }

    @Test
    void aFunctionLeavingForAnUpdateKeepsFilteringUntilItsNextVersionRegisters() {
        Firewall old = new Firewall();
        hooks.add(NfHook.FORWARD, 0, old);
        old.updating.set(true);
        hooks.remove(old);
        assertFalse(passes(), "no packet sees an empty ruleset between the versions");
        assertEquals(1, old.seen);
        Firewall next = new Firewall();
        hooks.add(NfHook.FORWARD, 0, next);
        assertFalse(passes());
        assertEquals(1, old.seen, "the old version is gone once the new one is there");
        assertEquals(1, next.seen);
        hooks.remove(next);
        assertTrue(passes());
    }

    @Test
    void aFunctionAtAnotherPriorityDoesNotReplaceTheRetiringOne() {
        Firewall old = new Firewall();
        hooks.add(NfHook.FORWARD, 0, old);
        old.updating.set(true);
        hooks.remove(old);
        hooks.add(NfHook.FORWARD, -200, (skb, h, ns, in, out) -> Verdict.ACCEPT);
        assertFalse(passes());
        assertEquals(1, old.seen);
    }

    /** A module's function that notes which version ran it, at which hook. */
    private static final class Tagged implements NfHookFunction, HandsOver {
        final String tag;
        final StringBuilder trace;
        final AtomicBoolean updating;

        Tagged(String tag, StringBuilder trace, AtomicBoolean updating) {
            this.tag = tag;
            this.trace = trace;
            this.updating = updating;
        }

        @Override
        public Verdict hook(SkBuff skb, NfHook hook, org.modnet.api.net.NetNamespace ns, org.modnet.api.net.NetDevice in,
                org.modnet.api.net.NetDevice out) {
            trace.append(tag).append('@').append(hook).append(' ');
            return Verdict.ACCEPT;
        }

        @Override
        public boolean handingOver() {
            return updating.get();
        }
    }

    private String walk(StringBuilder trace) {
        trace.setLength(0);
        hooks.run(NfHook.PRE_ROUTING, pool.alloc(64), null, null, null);
        hooks.run(NfHook.POST_ROUTING, pool.alloc(64), null, null, null);
        return trace.toString().strip();
    }

    @Test
    void aSetChangesVersionInOneStepOnceItsSuccessorIsWhole() {
        StringBuilder trace = new StringBuilder();
        AtomicBoolean oldUpdating = new AtomicBoolean();
        Tagged oldIn = new Tagged("old", trace, oldUpdating);
        Tagged oldOut = new Tagged("old", trace, oldUpdating);
        hooks.add(NfHook.PRE_ROUTING, -200, oldIn, "conntrack", 2, 7L);
        hooks.add(NfHook.POST_ROUTING, 100, oldOut, "conntrack", 2, 7L);
        assertEquals("old@PRE_ROUTING old@POST_ROUTING", walk(trace), "a set registers at once when nothing retires");
        oldUpdating.set(true);
        hooks.remove(oldIn);
        hooks.remove(oldOut);
        assertEquals("old@PRE_ROUTING old@POST_ROUTING", walk(trace), "the leaving set runs on");
        AtomicBoolean newUpdating = new AtomicBoolean();
        hooks.add(NfHook.PRE_ROUTING, -200, new Tagged("new", trace, newUpdating), "conntrack", 2, 7L);
        assertEquals("old@PRE_ROUTING old@POST_ROUTING", walk(trace), "half a successor does not run: no packet meets both versions");
        hooks.add(NfHook.POST_ROUTING, 100, new Tagged("new", trace, newUpdating), "conntrack", 2, 7L);
        assertEquals("new@PRE_ROUTING new@POST_ROUTING", walk(trace));
    }

    @Test
    void aSuccessorThatLeavesBeforeItIsWholeNeverRunsAndTheOldSetStays() {
        StringBuilder trace = new StringBuilder();
        AtomicBoolean oldUpdating = new AtomicBoolean();
        Tagged oldIn = new Tagged("old", trace, oldUpdating);
        Tagged oldOut = new Tagged("old", trace, oldUpdating);
        hooks.add(NfHook.PRE_ROUTING, -200, oldIn, "conntrack", 2, 7L);
        hooks.add(NfHook.POST_ROUTING, 100, oldOut, "conntrack", 2, 7L);
        oldUpdating.set(true);
        hooks.remove(oldIn);
        hooks.remove(oldOut);
        Tagged half = new Tagged("half", trace, new AtomicBoolean());
        hooks.add(NfHook.PRE_ROUTING, -200, half, "conntrack", 2, 7L);
        hooks.remove(half);
        AtomicBoolean nextUpdating = new AtomicBoolean();
        hooks.add(NfHook.PRE_ROUTING, -200, new Tagged("next", trace, nextUpdating), "conntrack", 2, 7L);
        assertEquals("old@PRE_ROUTING old@POST_ROUTING", walk(trace));
        hooks.add(NfHook.POST_ROUTING, 100, new Tagged("next", trace, nextUpdating), "conntrack", 2, 7L);
        assertEquals("next@PRE_ROUTING next@POST_ROUTING", walk(trace));
    }

    @Test
    void twoModulesRetiringAtOnceAtOnePriorityEachKeepFilteringUntilItsOwnSuccessorCame() {
        // iptables' filter (bundle 11) and an nftables filter chain (bundle 12), both at priority 0,
        // updated at the same moment
        StringBuilder trace = new StringBuilder();
        AtomicBoolean iptablesUpdating = new AtomicBoolean();
        AtomicBoolean nftUpdating = new AtomicBoolean();
        Tagged iptables = new Tagged("iptables-old", trace, iptablesUpdating);
        Tagged nft = new Tagged("nft-old", trace, nftUpdating);
        hooks.add(NfHook.FORWARD, 0, iptables, null, 0, 11L);
        hooks.add(NfHook.FORWARD, 0, nft, null, 0, 12L);
        iptablesUpdating.set(true);
        nftUpdating.set(true);
        hooks.remove(iptables);
        hooks.remove(nft);
        hooks.add(NfHook.FORWARD, 0, new Tagged("iptables-new", trace, new AtomicBoolean()), null, 0, 11L);
        hooks.run(NfHook.FORWARD, pool.alloc(64), null, null, null);
        assertEquals("nft-old@FORWARD iptables-new@FORWARD", trace.toString().strip(),
                "iptables' new version replaced its own old one; nftables' old one filters until its successor comes");
        hooks.add(NfHook.FORWARD, 0, new Tagged("nft-new", trace, new AtomicBoolean()), null, 0, 12L);
        trace.setLength(0);
        hooks.run(NfHook.FORWARD, pool.alloc(64), null, null, null);
        assertEquals("iptables-new@FORWARD nft-new@FORWARD", trace.toString().strip());
    }

    @Test
    void aNewModuleAtTheSamePriorityDoesNotTakeARetiringModulesPlace() {
        Firewall old = new Firewall();
        hooks.add(NfHook.FORWARD, 0, old, null, 0, 11L);
        old.updating.set(true);
        hooks.remove(old);
        hooks.add(NfHook.FORWARD, 0, (skb, h, ns, in, out) -> Verdict.ACCEPT, null, 0, 12L);
        assertFalse(passes(), "another bundle's accept-all function is no successor of the retiring firewall");
        assertEquals(1, old.seen);
    }

    /** At LOCAL_IN: a function before {@code queuer} and one after it, each noting in {@code ran} that it ran. */
    private void aroundTheQueuer(NfHookFunction queuer, java.util.List<String> ran) {
        hooks.add(NfHook.LOCAL_IN, -10, (skb, hook, ns, in, out) -> {
            ran.add("before");
            return Verdict.ACCEPT;
        });
        hooks.add(NfHook.LOCAL_IN, 0, queuer);
        hooks.add(NfHook.LOCAL_IN, 10, (skb, hook, ns, in, out) -> {
            ran.add("after");
            return Verdict.ACCEPT;
        });
    }

    @Test
    void aRepeatVerdictRunsTheQueueingFunctionAgainThenThoseAfterIt() {
        java.util.List<String> ran = new java.util.ArrayList<>();
        NfHookFunction queuer = (skb, hook, ns, in, out) -> {
            ran.add("queuer");
            return ran.indexOf("queuer") == ran.size() - 1 ? Verdict.STOLEN : Verdict.ACCEPT; // queues the first time, passes the repeat
        };
        aroundTheQueuer(queuer, ran);
        SkBuff skb = pool.alloc(64);
        assertEquals(false, hooks.run(NfHook.LOCAL_IN, skb, null, null, null), "queued: stolen");
        assertEquals(java.util.List.of("before", "queuer"), ran);
        assertEquals(true, hooks.runAfter(NfHook.LOCAL_IN, queuer, skb, null, null, null, true));
        assertEquals(java.util.List.of("before", "queuer", "queuer", "after"), ran, "NF_REPEAT: the queuer again, not the ones before it");
        skb.free();
    }

    @Test
    void aReinjectedPacketRunsOnlyTheFunctionsAfterTheOneThatQueuedIt() {
        java.util.List<String> ran = new java.util.ArrayList<>();
        NfHookFunction queuer = (skb, hook, ns, in, out) -> {
            ran.add("queuer");
            return Verdict.STOLEN;
        };
        aroundTheQueuer(queuer, ran);
        SkBuff skb = pool.alloc(64);
        assertEquals(true, hooks.runAfter(NfHook.LOCAL_IN, queuer, skb, null, null, null));
        assertEquals(java.util.List.of("after"), ran);
        hooks.remove(queuer);
        int used = pool.inUse();
        assertEquals(false, hooks.runAfter(NfHook.LOCAL_IN, queuer, skb, null, null, null), "its function is gone: dropped");
        assertEquals(used - 1, pool.inUse());
    }
}
