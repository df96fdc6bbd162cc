using System;

namespace Vtuber.Bridge.Core
{
    /// <summary>
    /// Turns normalized-humanoid local rotations (what VMC sends: identity = T-pose in every bone)
    /// into the local rotations of a concrete rig, from the rig's rest pose.
    ///
    /// Rig facts, captured once with the avatar in T-pose, all relative to the avatar root:
    /// for each humanoid bone i present in the rig, R_i = its rest world rotation and
    /// X_i = the rest world rotation of its Transform parent (often the humanoid parent, but any
    /// Transform in between is allowed as long as it is not animated).
    ///
    /// A normalized humanoid bone i has world rotation W_i = W_p q_i; the rig bone must turn by
    /// the same world delta, so its world rotation is W_i R_i and its local rotation is
    ///     local_i = X_i^-1 (W_P^-1 W_i) R_i = X_i^-1 (q_m1 ... q_mk q_i) R_i
    /// where P is the nearest humanoid ancestor the rig HAS and m1..mk are the humanoid bones
    /// between P and i that the rig lacks (e.g. UpperChest): their rotations are folded in, not lost.
    /// For an already normalized rig (UniVRM 0.x import, VRM 1.0 control rig) R = X = identity and
    /// local_i = q_i. Positions: local_i = X_i^-1 p_i (p in the normalized parent's frame).
    /// </summary>
    public sealed class HumanoidRetarget
    {
        readonly bool[] present;
        readonly Quat[] rest;
        readonly Quat[] parentRestInverse;
        readonly bool normalized;

        /// <summary>A rig with identity rest rotations (normalized): local rotation = sent rotation.</summary>
        public HumanoidRetarget(bool[] present)
        {
            this.present = Check(present);
            normalized = true;
        }

        public HumanoidRetarget(bool[] present, Quat[] restWorld, Quat[] parentRestWorld)
        {
            this.present = Check(present);
            if (restWorld == null || parentRestWorld == null ||
                restWorld.Length != HumanBones.Count || parentRestWorld.Length != HumanBones.Count)
                throw new ArgumentException("rest rotations need one entry per humanoid bone");
            rest = new Quat[HumanBones.Count];
            parentRestInverse = new Quat[HumanBones.Count];
            for (int i = 0; i < HumanBones.Count; i++)
            {
                rest[i] = restWorld[i].Normalized();
                parentRestInverse[i] = parentRestWorld[i].Normalized().Inverse();
            }
        }

        static bool[] Check(bool[] present)
        {
            if (present == null || present.Length != HumanBones.Count)
                throw new ArgumentException("present needs one entry per humanoid bone");
            return (bool[])present.Clone();
        }

        public bool IsPresent(int bone) { return present[bone]; }

        /// <summary>
        /// The rig-local rotation of <paramref name="bone"/> (must be present) for the normalized
        /// local rotations in <paramref name="pose"/>.
        /// </summary>
        public Quat LocalRotation(int bone, Quat[] pose)
        {
            Quat chain = pose[bone];
            for (int p = HumanBones.Parent((HumanBone)bone); p >= 0 && !present[p]; p = HumanBones.Parent((HumanBone)p))
                chain = pose[p] * chain;
            if (normalized) return chain;
            return parentRestInverse[bone] * chain * rest[bone];
        }

        /// <summary>The rig-local position for a normalized local position of <paramref name="bone"/>.</summary>
        public Vec3 LocalPosition(int bone, Vec3 p)
        {
            return normalized ? p : parentRestInverse[bone].Rotate(p);
        }
    }
}
