package org.modnet.feature;

import java.io.PrintStream;
import java.util.List;

import org.modnet.api.feature.FeatureException;
import org.modnet.api.feature.FeatureInfo;
import org.modnet.api.feature.FeatureService;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code feature list | install NAME | uninstall NAME}: features from the shell. */
@Component(service = FeatureCommand.class, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=feature" })
public final class FeatureCommand {
    static final String USAGE = "Usage: feature list | feature install NAME | feature uninstall NAME";

    private final FeatureService features;

    @Activate
    public FeatureCommand(@Reference FeatureService features) {
        this.features = features;
    }

    public void feature(String... args) {
        args = Commands.words(args);
        run(System.out, args);
    }

    void run(PrintStream out, String... args) {
        if (args.length == 0 || (args.length == 1 && "list".equals(args[0]))) {
            list(out);
            return;
        }
        if (args.length != 2) {
            throw new CommandException(USAGE, 2);
        }
        try {
            switch (args[0]) {
                case "install" -> {
                    features.install(args[1]).forEach(out::println);
                    out.println("feature " + args[1] + " installed");
                }
                case "uninstall" -> {
                    features.uninstall(args[1]).forEach(out::println);
                    out.println("feature " + args[1] + " uninstalled");
                }
                default -> throw new CommandException(USAGE, 2);
            }
        } catch (FeatureException e) {
            throw new CommandException(e.getMessage());
        }
    }

    private void list(PrintStream out) {
        List<FeatureInfo> all = features.features();
        int width = 4;
        for (FeatureInfo f : all) {
            width = Math.max(width, f.name().length());
        }
        String row = "%-" + width + "s  %-9s  %7s  %s%n";
        out.printf(row, "NAME", "STATE", "BUNDLES", "DESCRIPTION");
        for (FeatureInfo f : all) {
            out.printf(row, f.name(), f.installed() ? "installed" : "-", f.bundles().size(), f.description());
        }
    }
}
