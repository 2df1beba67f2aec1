package org.modnet.core;

import java.util.ArrayList;
import java.util.List;

import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetDeviceOps;
import org.modnet.api.net.TxResult;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** Test helpers: a core run by hand, a device whose transmit is recorded, and frames. */
final class TestDevices {
    private TestDevices() {
    }

    /** A core with one softirq polled by the test itself (no threads) and a fixed clock. */
    static CoreEngine manualCore(int cpus) {
        return new CoreEngine(cpus, false, new SkBuffPool(4096, 2048), () -> 0L);
    }

    /** A driver that keeps what it is asked to send (and can refuse, as a full ring would). */
    static final class RecordingDriver implements NetDeviceOps {
        final List<SkBuff> sent = new ArrayList<>();
        boolean busy;
        /** Runs XDP on its own buffers (native XDP through receiveFrame). */
        boolean nativeXdp;

        @Override
        public boolean nativeXdp(NetDevice dev) {
            return nativeXdp;
        }

        @Override
        public TxResult startXmit(SkBuff skb, NetDevice dev) {
            if (busy) {
                return TxResult.BUSY;
            }
            sent.add(skb);
            return TxResult.OK;
        }

        void freeAll() {
            sent.forEach(SkBuff::free);
            sent.clear();
        }
    }

    static NetDevice ether(CoreEngine core, String name, NetDeviceOps ops) throws Exception {
        NetDevice dev = core.initNet().register(DeviceSetup.ether(name, "test"), ops);
        dev.open();
        return dev;
    }

    /** An Ethernet frame of {@code size} bytes to {@code dst}, with the given ethertype. */
    static SkBuff frame(SkBuffPool pool, MacAddress dst, int ethertype, int size) {
        SkBuff skb = pool.alloc(size);
        int off = skb.put(size);
        skb.setU16(off, (int) (dst.bits() >>> 32));
        skb.setU32(off + 2, (int) dst.bits());
        skb.setU16(off + 6, 0x0200);
        skb.setU32(off + 8, 1);
        skb.setU16(off + Eth.ETH_HLEN - 2, ethertype);
        return skb;
    }
}
