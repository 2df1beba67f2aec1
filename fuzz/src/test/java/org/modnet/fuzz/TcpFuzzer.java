package org.modnet.fuzz;

import org.modnet.tcp.TcpFuzzAccess;

/**
 * TCP segments into {@code tcp_v4_rcv}: a standalone stack with a listener on 127.0.0.1:7000 and an
 * established connection to it, both applications writing to each other. One input is up to 64
 * segments, each a control byte, a length and that many bytes (the TCP header and what follows); the
 * control byte picks the target (the listener, either end of the connection, a closed port) and can
 * make the segment go deeper: sequence and acknowledgment numbers relative to the target's RCV.NXT and
 * SND.UNA, a correct checksum. The rest is the fuzzer's: data offset, flags, options, window, payload.
 *
 * <p>After each segment: nothing threw, and it counted once in InSegs and ended on exactly one fate (a
 * drop reason or consumed). After each input the stack runs and the clock moves; over the whole run,
 * InSegs equals the fates counted. A connection the input resets or closes is replaced.
 */
public final class TcpFuzzer {
    static final int MAX_SEGMENTS = 64;

    private static TcpFuzzAccess stack;
    private static long inputs;

    public static void fuzzerInitialize() {
        stack = new TcpFuzzAccess();
    }

    public static void fuzzerTearDown() {
        if (stack != null) {
            stack.pump(1000);
            stack.assertAccounted();
            System.err.println("modnet-fuzz: tcp: " + inputs + " inputs, " + stack.segments + " segments, " + stack.connections
                    + " connections");
        }
    }

    public static void fuzzerTestOneInput(byte[] data) {
        if (stack == null) {
            fuzzerInitialize();
        }
        int p = 0;
        int n = 0;
        while (p + 3 <= data.length && n < MAX_SEGMENTS) {
            int ctl = data[p] & 0xff;
            int len = ((data[p + 1] & 0xff) << 8 | (data[p + 2] & 0xff)) % 1500;
            p += 3;
            byte[] seg = new byte[len];
            int take = Math.min(len, data.length - p);
            System.arraycopy(data, p, seg, 0, take);
            p += take;
            stack.segment(ctl & 3, seg, (ctl & 4) != 0, (ctl & 8) != 0, (ctl & 16) == 0);
            n++;
        }
        inputs++;
        stack.pump((inputs & 63) == 0 ? 5000 : 5);
        if ((inputs & 63) == 0) {
            stack.assertAccounted();
        }
    }
}
