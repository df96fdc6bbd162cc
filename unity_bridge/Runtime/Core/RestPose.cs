namespace Vtuber.Bridge.Core
{
    /// <summary>
    /// vtuber's rest pose for bones a recording frame does not carry (the same table as
    /// vtuber.rig.REST_POSE): arms hanging about 70 degrees down, elbows bent 10 degrees, fingers
    /// curled 12 degrees per joint (thumbs straight). Other bones: identity (T-pose).
    /// </summary>
    public static class RestPose
    {
        static readonly Quat[] Table = Build();

        public static Quat Get(HumanBone bone) { return Table[(int)bone]; }

        static Quat[] Build()
        {
            var t = new Quat[HumanBones.Count];
            for (int i = 0; i < t.Length; i++) t[i] = Quat.Identity;
            var z = new Vec3(0, 0, 1);
            var y = new Vec3(0, 1, 0);
            t[(int)HumanBone.LeftUpperArm] = Quat.AxisAngle(z, 70.0);
            t[(int)HumanBone.RightUpperArm] = Quat.AxisAngle(z, -70.0);
            t[(int)HumanBone.LeftLowerArm] = Quat.AxisAngle(y, 10.0);
            t[(int)HumanBone.RightLowerArm] = Quat.AxisAngle(y, -10.0);
            foreach (var f in new[] { "Index", "Middle", "Ring", "Little" })
                foreach (var p in new[] { "Proximal", "Intermediate", "Distal" })
                {
                    HumanBone l, r;
                    HumanBones.TryParse("Left" + f + p, out l);
                    HumanBones.TryParse("Right" + f + p, out r);
                    t[(int)l] = Quat.AxisAngle(z, 12.0);
                    t[(int)r] = Quat.AxisAngle(new Vec3(0, 0, -1), 12.0);
                }
            return t;
        }
    }
}
