package org.modnet.ebpf.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;

/** The runner's entry for tests in another package. */
public final class RunAccess {
    private RunAccess() {
    }

    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) throws IOException {
        return Run.run(args, in, out, err);
    }
}
