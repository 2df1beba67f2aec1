package org.modnet.console;

/**
 * Ctrl-C for {@link AttachClient}, which runs as a plain Java program: SIGINT calls a handler instead
 * of ending the JVM. {@code sun.misc.Signal} is the JDK's supported way to do that; the bundle imports
 * it optionally, since inside OSGi nothing loads this class (JLine handles the local terminal there).
 */
final class CtrlC {
    private CtrlC() {
    }

    /**
     * Runs {@code handler} on each SIGINT; false when that cannot be (the process started with SIGINT
     * ignored, as a script's background job does, keeps it ignored).
     */
    static boolean handle(Runnable handler) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> handler.run());
            return true;
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            return false;
        }
    }
}
