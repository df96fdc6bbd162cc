using System;

namespace Vtuber.Bridge.Core
{
    /// <summary>
    /// A rotation quaternion (x, y, z, w), scalar last, in Unity's left-handed basis (x right, y up,
    /// z forward). Same memory order and Hamilton product as UnityEngine.Quaternion.
    /// </summary>
    [Serializable]
    public struct Quat
    {
        public float x, y, z, w;

        public Quat(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }

        public static readonly Quat Identity = new Quat(0f, 0f, 0f, 1f);

        /// <summary>a * b: apply b first, then a (Unity's operator*).</summary>
        public static Quat operator *(Quat a, Quat b)
        {
            return new Quat(
                a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
                a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
                a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
                a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z);
        }

        /// <summary>The inverse of a unit quaternion (its conjugate).</summary>
        public Quat Inverse() { return new Quat(-x, -y, -z, w); }

        public static float Dot(Quat a, Quat b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }

        /// <summary>Unit length; identity for a zero or non-finite quaternion.</summary>
        public Quat Normalized()
        {
            double n = Math.Sqrt((double)x * x + (double)y * y + (double)z * z + (double)w * w);
            if (!(n > 1e-12) || double.IsInfinity(n)) return Identity;
            return new Quat((float)(x / n), (float)(y / n), (float)(z / n), (float)(w / n));
        }

        /// <summary>Rotation of <paramref name="degrees"/> about <paramref name="axis"/> (normalized here).</summary>
        public static Quat AxisAngle(Vec3 axis, double degrees)
        {
            double n = Math.Sqrt((double)axis.x * axis.x + (double)axis.y * axis.y + (double)axis.z * axis.z);
            double h = degrees * Math.PI / 360.0;
            double s = Math.Sin(h) / n;
            return new Quat((float)(axis.x * s), (float)(axis.y * s), (float)(axis.z * s), (float)Math.Cos(h));
        }

        /// <summary>Spherical interpolation along the short arc, t in [0, 1].</summary>
        public static Quat Slerp(Quat a, Quat b, float t)
        {
            double d = Dot(a, b);
            if (d < 0) { b = new Quat(-b.x, -b.y, -b.z, -b.w); d = -d; }
            double wa, wb;
            if (d > 0.9995)
            {
                wa = 1 - t; wb = t;
            }
            else
            {
                double th = Math.Acos(Math.Min(1.0, d));
                double s = Math.Sin(th);
                wa = Math.Sin((1 - t) * th) / s;
                wb = Math.Sin(t * th) / s;
            }
            return new Quat((float)(wa * a.x + wb * b.x), (float)(wa * a.y + wb * b.y),
                            (float)(wa * a.z + wb * b.z), (float)(wa * a.w + wb * b.w)).Normalized();
        }

        /// <summary>Angle in degrees between two rotations, sign-insensitive (q ~ -q).</summary>
        public static double AngleDegrees(Quat a, Quat b)
        {
            double d = Math.Abs((double)Dot(a.Normalized(), b.Normalized()));
            return 2.0 * Math.Acos(Math.Min(1.0, d)) * 180.0 / Math.PI;
        }

        /// <summary>Rotate a vector.</summary>
        public Vec3 Rotate(Vec3 v)
        {
            // v' = v + 2 w (u x v) + 2 u x (u x v), u = (x, y, z)
            float tx = 2f * (y * v.z - z * v.y), ty = 2f * (z * v.x - x * v.z), tz = 2f * (x * v.y - y * v.x);
            return new Vec3(v.x + w * tx + (y * tz - z * ty), v.y + w * ty + (z * tx - x * tz),
                            v.z + w * tz + (x * ty - y * tx));
        }

        public override string ToString() { return string.Format("({0:R}, {1:R}, {2:R}, {3:R})", x, y, z, w); }
    }

    /// <summary>A vector in metres, Unity basis.</summary>
    [Serializable]
    public struct Vec3
    {
        public float x, y, z;

        public Vec3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }

        public static readonly Vec3 Zero = new Vec3(0f, 0f, 0f);

        public static Vec3 Lerp(Vec3 a, Vec3 b, float t)
        {
            return new Vec3(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, a.z + (b.z - a.z) * t);
        }

        public override string ToString() { return string.Format("({0:R}, {1:R}, {2:R})", x, y, z); }
    }
}
