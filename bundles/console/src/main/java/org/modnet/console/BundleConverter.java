package org.modnet.console;

import org.apache.felix.service.command.Converter;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

/**
 * Turns what a user types into a {@link Bundle} for Felix's own bundle commands ({@code start},
 * {@code stop}, {@code update}, {@code uninstall}, {@code refresh}, {@code resolve}, {@code headers},
 * {@code inspect}): a bundle id ({@code stop 27}), a symbolic name ({@code stop org.modnet.udp}) or a
 * location. Stock Gogo gets this from the gogo.shell bundle's converters; modnet runs its own console
 * instead of gogo.shell, so without this the runtime cannot coerce a token to a bundle ("Cannot coerce
 * stop(Token) to any of [(boolean, Bundle[])]"). Nothing that names no bundle is converted: the command
 * then fails as it does in a stock shell.
 */
@Component(service = Converter.class, immediate = true, property = Converter.CONVERTER_CLASSES
        + "=org.osgi.framework.Bundle")
public final class BundleConverter implements Converter {
    private final BundleContext context;

    @Activate
    public BundleConverter(BundleContext context) {
        this.context = context;
    }

    @Override
    public Object convert(Class<?> desiredType, Object in) {
        if (desiredType != Bundle.class || in == null) {
            return null;
        }
        if (in instanceof Number n) {
            return context.getBundle(n.longValue());
        }
        return find(in.toString().trim());
    }

    /** By id when the text is a number, else by symbolic name (the highest version), else by location. */
    Bundle find(String text) {
        if (text.isEmpty()) {
            return null;
        }
        if (text.chars().allMatch(Character::isDigit)) {
            try {
                return context.getBundle(Long.parseLong(text));
            } catch (NumberFormatException e) {
                return null; // longer than a long: no such bundle
            }
        }
        Bundle best = null;
        for (Bundle b : context.getBundles()) {
            if (text.equals(b.getSymbolicName()) && (best == null || b.getVersion().compareTo(best.getVersion()) > 0)) {
                best = b;
            }
        }
        return best != null ? best : context.getBundle(text);
    }

    @Override
    public CharSequence format(Object target, int level, Converter escape) {
        return null; // Felix's commands print bundles themselves
    }
}
