package org.peft4j.io;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.function.Predicate;

/**
 * Python's {@code repr(float)}, which {@code json.dumps} uses for floats.
 *
 * <p>Python prints the shortest decimal that reads back as the same double (the closest such one,
 * ties to even), in fixed notation when the decimal exponent is in [-4, 16) and in scientific
 * notation with an at least two-digit exponent otherwise: {@code 16.0}, {@code 0.0001},
 * {@code 1e-05}, {@code 1e+16}. Java 17's {@code Double.toString} is not always shortest, so the
 * digits are found here by trying 1 to 17 significant digits.
 */
final class PythonFloats {

    private PythonFloats() {}

    /** {@code json.dumps} of a Python float: repr for finite values, NaN/Infinity/-Infinity else. */
    static String json(double value) {
        if (Double.isNaN(value)) {
            return "NaN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "Infinity" : "-Infinity";
        }
        return repr(value);
    }

    /**
     * A Java float has no Python counterpart; it is taken to mean the shortest decimal that
     * identifies it ({@code 0.05f} means 0.05), which Python then holds as a double.
     */
    static String json(float value) {
        if (Double.isNaN(value) || Double.isInfinite(value) || value == 0) {
            return json((double) value);
        }
        float magnitude = Math.abs(value);
        BigDecimal digits = shortest(magnitude, c -> Float.parseFloat(c.toString()) == magnitude, 9);
        double asDouble = Double.parseDouble(digits.toString());
        return json(value < 0 ? -asDouble : asDouble);
    }

    static String repr(double value) {
        String sign = (value < 0 || (value == 0 && 1 / value < 0)) ? "-" : "";
        double magnitude = Math.abs(value);
        if (magnitude == 0) {
            return sign + "0.0";
        }
        BigDecimal decimal =
                shortest(magnitude, c -> Double.parseDouble(c.toString()) == magnitude, 17)
                        .stripTrailingZeros();
        String digits = decimal.unscaledValue().toString();
        // value = 0.DIGITS * 10^pointPosition
        int pointPosition = digits.length() - decimal.scale();
        return sign + format(digits, pointPosition);
    }

    private static String format(String digits, int pointPosition) {
        if (pointPosition <= -4 || pointPosition > 16) {
            int exponent = pointPosition - 1;
            String mantissa =
                    digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            String exponentDigits = String.format("%02d", Math.abs(exponent));
            return mantissa + "e" + (exponent < 0 ? "-" : "+") + exponentDigits;
        }
        if (pointPosition <= 0) {
            return "0." + "0".repeat(-pointPosition) + digits;
        }
        if (pointPosition >= digits.length()) {
            return digits + "0".repeat(pointPosition - digits.length()) + ".0";
        }
        return digits.substring(0, pointPosition) + "." + digits.substring(pointPosition);
    }

    /**
     * The decimal with the fewest significant digits that {@code roundTrips}; among those of that
     * length, the one closest to {@code magnitude}, ties going to the even last digit.
     */
    private static BigDecimal shortest(
            double magnitude, Predicate<BigDecimal> roundTrips, int maxDigits) {
        BigDecimal exact = new BigDecimal(magnitude);
        for (int precision = 1; precision <= maxDigits; precision++) {
            BigDecimal below = exact.round(new MathContext(precision, RoundingMode.FLOOR));
            BigDecimal above = exact.round(new MathContext(precision, RoundingMode.CEILING));
            boolean belowOk = roundTrips.test(below);
            boolean aboveOk = roundTrips.test(above);
            if (belowOk && aboveOk) {
                int comparison = exact.subtract(below).compareTo(above.subtract(exact));
                if (comparison != 0) {
                    return comparison < 0 ? below : above;
                }
                return exact.round(new MathContext(precision, RoundingMode.HALF_EVEN));
            }
            if (belowOk) {
                return below;
            }
            if (aboveOk) {
                return above;
            }
        }
        throw new AssertionError("no decimal of " + maxDigits + " digits reads back as " + magnitude);
    }
}
