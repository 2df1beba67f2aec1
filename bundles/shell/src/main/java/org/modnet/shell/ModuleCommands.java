package org.modnet.shell;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Dictionary;
import java.util.List;
import java.util.TreeSet;

import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * modnet's bundles are its kernel modules: {@code lsmod} lists them as Linux lists modules, with
 * the modules that use each one ("Used by": the bundles wired to its exported packages), and
 * {@code modinfo NAME} describes one.
 */
@Component(service = ModuleCommands.class, immediate = true, property = {
        "osgi.command.scope=" + Commands.SCOPE, "osgi.command.function=lsmod",
        "osgi.command.function=modinfo" })
public final class ModuleCommands {
    private final BundleContext context;

    @Activate
    public ModuleCommands(BundleContext context) {
        this.context = context;
    }

    /** {@code lsmod [-a]}: the modnet bundles, or with {@code -a} every bundle in the framework. */
    public void lsmod(String... args) {
        args = Commands.words(args);
        boolean all = false;
        for (String a : args) {
            if (a.equals("-a") || a.equals("--all")) {
                all = true;
            } else {
                throw new CommandException("lsmod: invalid option '" + a + "'\nUsage: lsmod [-a]", 1);
            }
        }
        lsmod(System.out, all);
    }

    void lsmod(PrintStream out, boolean all) {
        List<Bundle> bundles = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (b.getBundleId() != 0 && (all || isModnet(b))) {
                bundles.add(b);
            }
        }
        bundles.sort(Comparator.comparing(b -> String.valueOf(b.getSymbolicName())));
        int width = "Module".length();
        for (Bundle b : bundles) {
            width = Math.max(width, String.valueOf(b.getSymbolicName()).length());
        }
        String row = "%-" + width + "s  %-16s %-9s %s%n";
        out.printf(row, "Module", "Version", "State", "Used by");
        for (Bundle b : bundles) {
            List<String> users = usedBy(b);
            String usedBy = users.size() + (users.isEmpty() ? "" : " " + String.join(",", users));
            out.printf(row, b.getSymbolicName(), b.getVersion(), state(b), usedBy);
        }
    }

    /** {@code modinfo NAME}: a bundle's file, version, description, what it needs and what it offers. */
    public void modinfo(String name) {
        name = Commands.word(name);
        Bundle bundle = find(name);
        if (bundle == null) {
            throw new CommandException("modinfo: ERROR: Module " + name + " not found.", 1);
        }
        PrintStream out = System.out;
        Dictionary<String, String> h = bundle.getHeaders();
        field(out, "filename", bundle.getLocation());
        field(out, "name", bundle.getSymbolicName());
        field(out, "version", bundle.getVersion().toString());
        field(out, "description", h.get(Constants.BUNDLE_DESCRIPTION));
        field(out, "license", h.get("Bundle-License"));
        field(out, "vendor", h.get(Constants.BUNDLE_VENDOR));
        field(out, "state", state(bundle));
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        if (wiring != null) {
            TreeSet<String> depends = new TreeSet<>();
            for (BundleWire w : wiring.getRequiredWires(null)) {
                Bundle provider = w.getProvider().getBundle();
                if (provider.getBundleId() != 0 && provider != bundle) {
                    depends.add(provider.getSymbolicName());
                }
            }
            field(out, "depends", String.join(",", depends));
            for (var cap : wiring.getCapabilities("osgi.wiring.package")) {
                field(out, "exports", cap.getAttributes().get("osgi.wiring.package") + " "
                        + cap.getAttributes().get("version"));
            }
        }
        ServiceReference<?>[] services = bundle.getRegisteredServices();
        if (services != null) {
            TreeSet<String> names = new TreeSet<>();
            for (ServiceReference<?> ref : services) {
                names.add(String.join(",", (String[]) ref.getProperty(Constants.OBJECTCLASS)));
            }
            names.forEach(n -> field(out, "service", n));
        }
    }

    private Bundle find(String name) {
        for (Bundle b : context.getBundles()) {
            String bsn = b.getSymbolicName();
            if (name.equals(bsn) || ("org.modnet." + name).equals(bsn) || name.equals(String.valueOf(b.getBundleId()))) {
                return b;
            }
        }
        return null;
    }

    private static void field(PrintStream out, String key, String value) {
        if (value != null && !value.isEmpty()) {
            out.printf("%-12s %s%n", key + ":", value);
        }
    }

    private static boolean isModnet(Bundle b) {
        String bsn = b.getSymbolicName();
        return bsn != null && (bsn.equals("org.modnet") || bsn.startsWith("org.modnet."));
    }

    /** Bundles wired to the packages this one exports: who would break if it went away. */
    private static List<String> usedBy(Bundle b) {
        BundleWiring wiring = b.adapt(BundleWiring.class);
        TreeSet<String> users = new TreeSet<>();
        if (wiring != null) {
            for (BundleWire w : wiring.getProvidedWires("osgi.wiring.package")) {
                Bundle requirer = w.getRequirer().getBundle();
                if (requirer != b) {
                    users.add(requirer.getSymbolicName());
                }
            }
        }
        return new ArrayList<>(users);
    }

    /** The module states /proc/modules shows, from the bundle's. */
    static String state(Bundle b) {
        return switch (b.getState()) {
            case Bundle.ACTIVE -> "Live";
            case Bundle.STARTING -> "Loading";
            case Bundle.STOPPING -> "Unloading";
            case Bundle.RESOLVED -> "Resolved";
            case Bundle.INSTALLED -> "Installed";
            default -> "Uninstalled";
        };
    }
}
