package org.modnet.sched;

import java.util.Map;

import org.modnet.api.sched.QdiscOps;
import org.modnet.core.StandaloneCore;

/** {@code tc qdisc replace dev DEV root netem ARGS...} on a benchmark's stack, for benchmarks outside this package. */
public final class NetemLink {
    private final TcCommand tc;

    public NetemLink(StandaloneCore stack) {
        tc = new TcCommand(stack.core(), stack.qdiscHook());
        tc.addFamily(new NetemOps(), Map.of(QdiscOps.KIND, "netem"));
    }

    /** Puts netem with {@code args} (tc's words: {@code delay 50ms loss 1%}) at the root of {@code dev} in namespace {@code ns}. */
    public void netem(String ns, String dev, String... args) {
        String[] cmd = new String[6 + args.length];
        cmd[0] = "qdisc";
        cmd[1] = "replace";
        cmd[2] = "dev";
        cmd[3] = dev;
        cmd[4] = "root";
        cmd[5] = "netem";
        System.arraycopy(args, 0, cmd, 6, args.length);
        tc.run(ns, cmd);
    }
}
