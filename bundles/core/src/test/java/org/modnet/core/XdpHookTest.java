package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.XdpHook;
import org.modnet.api.skb.SkBuff;

/** The XDP hook in the receive poll: every action carried out and counted, and nothing leaks. */
class XdpHookTest {
    @Test
    void eachActionIsCarriedOutAndCounted() throws Exception {
        CoreEngine core = TestDevices.manualCore(1);
        TestDevices.RecordingDriver driver = new TestDevices.RecordingDriver();
        NetDevice dev = TestDevices.ether(core, "eth0", driver);
        List<Integer> delivered = new ArrayList<>();
        core.addHandler(Eth.ETH_P_IP, (skb, d) -> {
            delivered.add(skb.len());
            skb.free();
        });
        List<SkBuff> redirected = new ArrayList<>();
        // the action is the frame's size class: a program's decision, made from the packet's bytes
        dev.setXdp(new XdpHook() {
            @Override
            public int run(SkBuff skb, NetDevice d, int rxQueue) {
                int action = skb.len() % 10;
                if (action == XDP_PASS) {
                    skb.pull(0);
                }
                if (action == XDP_REDIRECT) {
                    redirected.add(skb);
                }
                if (action == 9) {
                    throw new IllegalStateException("a broken hook");
                }
                return action;
            }

            @Override
            public String describe() {
                return "test";
            }
        });
        int[] sizes = { 100, 101, 102, 103, 104, 107, 109, 112 }; // aborted, drop, pass, tx, redirect, bad action, throws, pass
        for (int s : sizes) {
            dev.rxQueue(0).receive(TestDevices.frame(core.pool(), dev.address(), Eth.ETH_P_IP, s));
        }
        while (core.softirq(0).netRxAction()) {
            // poll until done
        }
        var st = dev.ethtoolStats();
        assertEquals(3L, st.get("xdp_aborted"), "code 0, an action out of range, and a throw");
        assertEquals(1L, st.get("xdp_drop"));
        assertEquals(2L, st.get("xdp_pass"));
        assertEquals(1L, st.get("xdp_tx"));
        assertEquals(1L, st.get("xdp_redirect"));
        assertEquals(List.of(102 - Eth.ETH_HLEN, 112 - Eth.ETH_HLEN), delivered, "passed frames reach the stack");
        assertEquals(1, driver.sent.size(), "XDP_TX goes back out of the same device");
        assertEquals(103, driver.sent.get(0).len());
        driver.freeAll();
        redirected.forEach(SkBuff::free);
        assertEquals(0, core.pool().inUse(), "every frame was freed, sent or handed over");
        dev.setXdp(null);
        assertNull(dev.xdp());
    }
}
