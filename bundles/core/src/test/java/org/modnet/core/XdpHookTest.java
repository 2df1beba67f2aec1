package org.modnet.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.Eth;
import org.modnet.api.net.NetException;
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

    /**
     * Native XDP: the program runs on the driver's buffer before any skb exists — a dropped frame
     * never takes one from the pool — and each action is carried out and counted as at the generic hook.
     */
    @Test
    void nativeXdpRunsOnTheDriversBufferBeforeAnySkb() throws Exception {
        CoreEngine core = TestDevices.manualCore(1);
        TestDevices.RecordingDriver driver = new TestDevices.RecordingDriver();
        NetDevice generic = TestDevices.ether(core, "eth1", new TestDevices.RecordingDriver());
        XdpHook byLength = new XdpHook() {
            @Override
            public int run(SkBuff skb, NetDevice d, int rxQueue) {
                throw new AssertionError("native mode never runs the skb hook");
            }

            @Override
            public long runFrame(MemorySegment buffer, int data, int len, NetDevice d, int rxQueue) {
                int action = len % 10;
                if (action == 9) {
                    throw new IllegalStateException("a broken hook");
                }
                // XDP_PASS frames lose their first 14 bytes, as a decapsulating program's adjust_head would
                return action == XDP_PASS ? XdpHook.frameResult(action, data + 14, len - 14) : XdpHook.frameResult(action, data, len);
            }

            @Override
            public String describe() {
                return "test";
            }
        };
        NetException refused = assertThrows(NetException.class, () -> generic.setXdp(byLength, true));
        assertEquals(Errno.EOPNOTSUPP, refused.errno(), "a driver without native XDP refuses xdpdrv");
        driver.nativeXdp = true;
        NetDevice dev = TestDevices.ether(core, "eth0", driver);
        assertTrue(dev.supportsNativeXdp());
        dev.setXdp(byLength, true);
        assertTrue(dev.xdpNative());
        List<Integer> delivered = new ArrayList<>();
        core.addHandler(Eth.ETH_P_IP, (skb, d) -> {
            delivered.add(skb.len());
            skb.free();
        });
        MemorySegment page = Arena.ofAuto().allocate(256 + 2048);
        int[] sizes = { 100, 101, 103, 107, 109, 2000 }; // aborted, drop, tx, bad action, throws, too long
        for (int s : sizes) {
            writeFrame(page, dev, s);
            assertFalse(dev.rxQueue(0).receiveFrame(page, 256, s), "size " + s);
        }
        assertEquals(0, core.pool().inUse() - driver.sent.size(), "no skb for a frame XDP dropped: only XDP_TX took one");
        assertEquals(0, dev.rxQueue(0).pending());
        // a frame that passes: copied out of the buffer into an skb, from where the program moved its start
        writeFrame(page, dev, 132);
        page.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 256 + 14 + 12, (short) Eth.ETH_P_IP);
        assertTrue(dev.rxQueue(0).receiveFrame(page, 256, 132));
        while (core.softirq(0).netRxAction()) {
            // poll until done
        }
        var st = dev.ethtoolStats();
        assertEquals(3L, st.get("xdp_aborted"), "code 0, an action out of range, and a throw");
        assertEquals(1L, st.get("xdp_drop"));
        assertEquals(1L, st.get("xdp_tx"));
        assertEquals(1L, st.get("xdp_pass"));
        assertEquals(1L, dev.stats().get(org.modnet.api.net.DeviceStats.Field.RX_LENGTH_ERRORS), "longer than the MTU: refused before XDP");
        assertEquals(List.of(132 - 14 - Eth.ETH_HLEN), delivered, "the passed frame reached the stack as the program left it");
        assertEquals(1, driver.sent.size(), "XDP_TX went back out of the device");
        assertEquals(103, driver.sent.get(0).len());
        driver.freeAll();
        assertEquals(0, core.pool().inUse());

        dev.setXdp(null);
        writeFrame(page, dev, 100);
        assertTrue(dev.rxQueue(0).receiveFrame(page, 256, 100), "no program: every frame becomes an skb in the ring");
        assertEquals(1, dev.rxQueue(0).pending());
        while (core.softirq(0).netRxAction()) {
            // poll until done
        }

        // a jumbo frame (larger than a pool buffer) passed by native XDP still becomes an skb
        dev.setMtu(9000);
        dev.setXdp(new XdpHook() {
            @Override
            public int run(SkBuff skb, NetDevice d, int rxQueue) {
                return XDP_PASS;
            }

            @Override
            public long runFrame(MemorySegment buffer, int data, int len, NetDevice d, int rxQueue) {
                return XdpHook.frameResult(XDP_PASS, data, len);
            }

            @Override
            public String describe() {
                return "pass";
            }
        }, true);
        MemorySegment jumbo = Arena.ofAuto().allocate(256 + 9014);
        writeFrame(jumbo, dev, 9014);
        assertTrue(dev.rxQueue(0).receiveFrame(jumbo, 256, 9014), "a 9014-byte frame made it into the ring");
        delivered.clear();
        while (core.softirq(0).netRxAction()) {
            // poll until done
        }
        assertEquals(List.of(9000), delivered);
    }

    private static void writeFrame(MemorySegment page, NetDevice dev, int size) {
        page.asSlice(256, size).fill((byte) 0);
        long mac = dev.address().bits();
        for (int i = 0; i < 6; i++) {
            page.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 256 + i, (byte) (mac >>> (40 - 8 * i)));
        }
        page.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.BIG_ENDIAN), 256 + 12, (short) Eth.ETH_P_IP);
    }
}
