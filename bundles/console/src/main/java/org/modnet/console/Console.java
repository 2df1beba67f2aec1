package org.modnet.console;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.felix.service.command.CommandProcessor;
import org.modnet.api.feature.FeatureException;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.shell.Commands;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stack's init process. The bnd launcher calls this {@code main.thread} service once every
 * bundle has started and exits with what it returns. It installs the default feature, runs the
 * {@code -c} commands, then either returns their status or stays: with the interactive shell when
 * standard input is a terminal, and with the control socket for {@code bin/modnet attach}, until
 * {@code shutdown} or SIGTERM.
 */
@Component(service = Callable.class, immediate = true, property = {
        "main.thread=true", "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=shutdown" })
public final class Console implements Callable<Integer> {
    /** Framework property: the feature installed at boot when no {@code --feature} is given. */
    static final String DEFAULT_FEATURE = "modnet.feature";

    private static final Logger LOG = LoggerFactory.getLogger(Console.class);

    private final BundleContext context;
    private final CommandProcessor processor;
    private final CountDownLatch shutdown = new CountDownLatch(1);
    private volatile boolean running;
    private volatile InteractiveShell shell;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile FeatureService features;

    @Activate
    public Console(BundleContext context, @Reference CommandProcessor processor) {
        this.context = context;
        this.processor = processor;
    }

    @Override
    public Integer call() {
        running = true;
        PrintStream stdout = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream stderr = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        try {
            Options options;
            try {
                String feature = context.getProperty(DEFAULT_FEATURE);
                options = Options.parse(launcherArguments(), feature == null ? "minimal" : feature);
            } catch (IllegalArgumentException e) {
                stderr.println(e.getMessage());
                return 2;
            }
            boolean stays = options.stay() || options.commands() == null;
            if (stays) {
                try {
                    RunDir.ensurePrivate(); // before booting: a run directory another user made is refused at once
                } catch (RunDir.Refused e) {
                    stderr.println("modnet: " + e.getMessage());
                    return 126;
                } catch (IOException e) {
                    stderr.println("modnet: cannot make the run directory: " + e);
                    return 1;
                }
            }
            awaitStarted();
            if (!bootFeature(options.feature(), stderr)) {
                return 1;
            }
            ControlServer control = null;
            if (stays) {
                try {
                    control = new ControlServer(options.name(), s -> processor.createSession(s.in(), s.out(), s.err()));
                } catch (RunDir.Refused e) {
                    stderr.println("modnet: " + e.getMessage());
                    return 126;
                } catch (IOException e) {
                    stderr.println(e.getMessage());
                    return 1;
                }
            }
            Thread cleanup = control == null ? null : closeOnExit(control);
            try {
                return session(options, stdout, stderr);
            } finally {
                if (control != null) {
                    control.close();
                    try {
                        Runtime.getRuntime().removeShutdownHook(cleanup);
                    } catch (IllegalStateException e) {
                        // the JVM is already shutting down; the hook closes the socket itself
                    }
                }
            }
        } finally {
            running = false;
        }
    }

    private int session(Options options, PrintStream stdout, PrintStream stderr) {
        int status = 0;
        if (options.commands() != null) {
            Executor executor = new Executor(processor.createSession(new FileInputStream(FileDescriptor.in), stdout, stderr),
                    stdout, stderr);
            status = executor.executeScript(options.commands());
            executor.close();
            if (!options.stay()) {
                return status;
            }
        }
        boolean terminal = System.console() != null && System.console().isTerminal();
        if (terminal) {
            try {
                shell = new InteractiveShell(processor, options.name());
                status = shell.run(() -> shutdown.getCount() == 0);
                shell = null;
            } catch (IOException e) {
                stderr.println("modnet: cannot open the terminal: " + e.getMessage());
                status = 1;
            }
            if (!options.stay()) {
                return status;
            }
        } else if (!options.stay()) {
            return runScript(stdout, stderr);
        }
        awaitShutdown();
        return status;
    }

    /** Standard input that is not a terminal is a script: {@code echo lb | bin/modnet}. */
    private int runScript(PrintStream stdout, PrintStream stderr) {
        Executor executor = new Executor(processor.createSession(java.io.InputStream.nullInputStream(), stdout, stderr),
                stdout, stderr);
        int status = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(new FileInputStream(FileDescriptor.in),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null && shutdown.getCount() > 0) {
                int s = executor.executeScript(line);
                if (s != 0 && status == 0) {
                    status = s;
                }
            }
        } catch (IOException e) {
            stderr.println("modnet: reading standard input: " + e.getMessage());
            status = 1;
        } finally {
            executor.close();
        }
        return status;
    }

    private boolean bootFeature(String name, PrintStream stderr) {
        if (name == null || name.isBlank() || name.equals("none")) {
            return true;
        }
        FeatureService service = features;
        if (service == null) {
            stderr.println("modnet: cannot install feature " + name + ": the feature service (org.modnet.feature) is not running");
            return false;
        }
        try {
            service.install(name);
            return true;
        } catch (FeatureException e) {
            stderr.println("modnet: " + e.getMessage());
            return false;
        }
    }

    /**
     * The launcher may call us while the framework still walks up the start levels. The console starts
     * last (the highest level in modnet.bndrun), so once the framework stands at the console's level,
     * every other bundle has started.
     */
    private void awaitStarted() {
        FrameworkStartLevel framework = context.getBundle(0).adapt(FrameworkStartLevel.class);
        int mine = context.getBundle().adapt(BundleStartLevel.class).getStartLevel();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try {
            while (framework.getStartLevel() < mine && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void awaitShutdown() {
        try {
            shutdown.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread closeOnExit(ControlServer control) {
        Thread hook = new Thread(control::close, "modnet-control-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        return hook;
    }

    /** The arguments the bnd launcher was started with (its {@code launcher.arguments} service). */
    private List<String> launcherArguments() {
        try {
            ServiceReference<?>[] refs = context.getServiceReferences((String) null, "(launcher.arguments=*)");
            if (refs != null && refs.length > 0 && refs[0].getProperty("launcher.arguments") instanceof String[] args) {
                return List.of(args);
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        return List.of();
    }

    /** {@code shutdown}: stops the stack; the launcher exits with status 0. */
    public void shutdown() {
        shutdown.countDown();
        if (running) {
            InteractiveShell s = shell;
            if (s != null) {
                s.wake();
            }
            return; // the main thread sees the latch and returns; the launcher stops the framework
        }
        Thread.ofPlatform().name("modnet-shutdown").start(() -> {
            try {
                context.getBundle(0).stop();
            } catch (BundleException e) {
                LOG.error("shutdown: {}", e.toString());
            }
        });
    }
}
